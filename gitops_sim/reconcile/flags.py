"""A Flux controller's command-line flags, read from the Deployment that runs it.

In a real cluster a Flux controller learns its options from its container's arguments
(`--feature-gates=ExternalArtifact=true`, `--no-cross-namespace-refs=true`), which `flux
install` and the user's kustomize patches write into its Deployment. Here the controllers run
inside the engine, so a controller that honours a flag reads it where Flux's process would have
got it: the `args` of the `manager` container (else the first) of its component's Deployment
(named after the component, labelled `app.kubernetes.io/part-of: flux`, in any namespace; the
first by namespace when there are several).

When the cluster has no such Deployment (a remote cluster, or one a test built: the engine runs
Flux outside it), the caller's `absent` value applies: what `flux install` with every component
would have set. A flag changed on a running Deployment takes effect at once here, where Flux's
Pods would restart with it first.

Flag syntax, as pflag parses it: `--name=value`, `--name value` and, for a boolean, `--name`
alone; a map flag (`--feature-gates=A=true,B=false`) may be given several times, the later value
of a key winning. Feature gate values are Go's `strconv.ParseBool` (a value it does not read
leaves the gate at its default, where Flux's manager would refuse to start).

Callers: the controllers that honour a flag (feature gates of kustomize-controller and
helm-controller, source-watcher's cross-namespace lock). Reads the cluster, never writes it.
"""

from __future__ import annotations

from gitops_sim.cluster import backend
from gitops_sim.model import fluxinstall, refs

DEPLOYMENT = refs.GroupKind("apps", "Deployment")
FEATURE_GATES = "--feature-gates"
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


def args_of(cluster: backend.Cluster, component: str) -> list[str] | None:
    """The arguments of `component`'s container, or None when the cluster runs no such Deployment."""
    for deployment in cluster.list(DEPLOYMENT, labels={"app.kubernetes.io/part-of": "flux"}):
        if fluxinstall.component_of(deployment) != component:
            continue
        containers = ((deployment.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers")
        if not isinstance(containers, list) or not containers:
            return []
        chosen = next(
            (c for c in containers if isinstance(c, dict) and c.get("name") == "manager"), containers[0]
        )
        args = chosen.get("args") if isinstance(chosen, dict) else None
        return [str(a) for a in args] if isinstance(args, list) else []
    return None


def values(args: list[str], name: str) -> list[str]:
    """Every value `args` gives flag `name` (`--name`), in order; a bare flag reads "true"."""
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == name:
            following = args[i + 1] if i + 1 < len(args) else None
            out.append(following if following is not None and not following.startswith("-") else "true")
        elif arg.startswith(name + "="):
            out.append(arg[len(name) + 1 :])
    return out


def parse_bool(text: str) -> bool | None:
    """Go's `strconv.ParseBool`, None for anything it refuses."""
    return True if text in _TRUE else False if text in _FALSE else None


def feature_gate(cluster: backend.Cluster, component: str, gate: str, *, default: bool, absent: bool) -> bool:
    """Whether feature gate `gate` is on in `component` (`default` when its flags leave it unset;
    `absent` when the cluster runs no Deployment of it)."""
    args = args_of(cluster, component)
    if args is None:
        return absent
    enabled = default
    for value in values(args, FEATURE_GATES):
        for pair in value.split(","):
            key, eq, setting = pair.strip().partition("=")
            if eq and key.strip() == gate and (parsed := parse_bool(setting.strip())) is not None:
                enabled = parsed
    return enabled


def enabled(cluster: backend.Cluster, component: str, flag: str, *, default: bool, absent: bool) -> bool:
    """A boolean flag of `component` (the last value given wins)."""
    args = args_of(cluster, component)
    if args is None:
        return absent
    found = [parse_bool(v) for v in values(args, flag)]
    settled = [v for v in found if v is not None]
    return settled[-1] if settled else default

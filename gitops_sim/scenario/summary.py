"""The end-of-run summary of `gitops-sim up`: what Flux made of a repository, on one screen.

`summarize(outcome, notes)` reads the final state of a run and returns a `Summary`:
- every Flux object with its Ready status and message (and `suspended`);
- what was applied, by kind (the objects in the Kustomizations' and HelmReleases' inventories);
- for each Flux object that is not Ready, why (`engine.why`'s chain);
- what the simulation keeps without simulating, by kind: objects no simulated controller acts
  on (Ingresses route nothing, NetworkPolicies filter nothing, webhooks are never called, a
  third-party CRD's objects have no operator);
- what gitops-sim stood in for: the plan's notes, stub CRDs (`stub` records), and whatever else
  the caller adds (the mirror's notes).
`render(summary)` writes it as text; `Summary.ready` is what `up`'s exit status says.

Callers: the CLI (`gitops-sim up`) and `testing.run_repo`. Reads only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from gitops_sim.apply import inventory
from gitops_sim.engine import why
from gitops_sim.model import conditions, duration, flux, objects
from gitops_sim.scenario import runner

_STORED_ONLY = {
    ("networking.k8s.io", "Ingress"): "nothing routes traffic",
    ("networking.k8s.io", "IngressClass"): "nothing routes traffic",
    ("networking.k8s.io", "NetworkPolicy"): "nothing filters traffic",
    ("policy", "PodDisruptionBudget"): "nothing evicts Pods but a scenario's fault",
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): "admission webhooks are never called",
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): "admission webhooks are never called",
    ("apiregistration.k8s.io", "APIService"): "no aggregated API server runs",
    ("scheduling.k8s.io", "PriorityClass"): "one node schedules everything",
}
_GATEWAY = "gateway.networking.k8s.io"


@dataclass(frozen=True, slots=True)
class FluxObject:
    ref: str
    ready: str
    """"True", "False", "Unknown" or "" (no Ready condition)."""
    reason: str
    message: str
    suspended: bool
    static: bool = False
    """A kind Flux keeps no status for (an OCI HelmRepository, an Alert, a Provider): never Ready."""


@dataclass(frozen=True, slots=True)
class Summary:
    title: str
    virtual_ms: int
    flux: tuple[FluxObject, ...]
    applied: dict[str, int]
    why: tuple[str, ...]
    stored_only: dict[str, str]
    """`Kind (n)` → why the simulation does nothing more with it."""
    stood_in: tuple[str, ...]
    failure: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def ready(self) -> bool:
        return self.failure is None and all(
            o.ready == "True" for o in self.flux if not (o.suspended or o.static)
        )


def _group(obj: objects.RawObject) -> str:
    api_version = str(obj.get("apiVersion", ""))
    return api_version.partition("/")[0] if "/" in api_version else ""


def _flux_objects(final: Sequence[objects.RawObject]) -> list[FluxObject]:
    out = []
    for obj in final:
        if not flux.is_flux_group(_group(obj)):
            continue
        cond = conditions.get(obj, conditions.READY) or {}
        static = not cond and (
            obj.get("kind") in ("Alert", "Provider")
            or (obj.get("kind") == "HelmRepository" and (obj.get("spec") or {}).get("type") == "oci")
        )
        out.append(
            FluxObject(
                ref=str(objects.ref_of(obj)),
                ready=str(cond.get("status", "")),
                reason=str(cond.get("reason", "")),
                message=str(cond.get("message", "")).strip(),
                suspended=(obj.get("spec") or {}).get("suspend") is True,
                static=static,
            )
        )
    return out


def _applied(final: Sequence[objects.RawObject]) -> dict[str, int]:
    kinds: Counter[str] = Counter()
    seen = set()
    for obj in final:
        if obj.get("kind") not in ("Kustomization", "HelmRelease") or not flux.is_flux_group(_group(obj)):
            continue
        for entry in ((obj.get("status") or {}).get("inventory") or {}).get("entries") or []:
            ref, _version = inventory.parse_id(entry)
            if ref not in seen:
                seen.add(ref)
                kinds[ref.kind] += 1
    return dict(sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))


_BUILT_IN = frozenset(
    {
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "discovery.k8s.io",
        "coordination.k8s.io",
        "events.k8s.io",
        "apiextensions.k8s.io",
        "admissionregistration.k8s.io",
        "apiregistration.k8s.io",
        "scheduling.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    }
)


def _stored_only(final: Sequence[objects.RawObject]) -> dict[str, str]:
    counts: Counter[tuple[str, str]] = Counter()
    reasons: dict[tuple[str, str], str] = {}
    for obj in final:
        group, kind = _group(obj), str(obj.get("kind", ""))
        key = (group, kind)
        if key in _STORED_ONLY:
            reasons[key] = _STORED_ONLY[key]
        elif group == _GATEWAY:
            reasons[key] = "no Gateway controller runs"
        elif group and not flux.is_flux_group(group) and group not in _BUILT_IN:
            reasons[key] = "a custom resource: its operator is not simulated"
        else:
            continue
        counts[key] += 1
    return {
        f"{kind} ({counts[(group, kind)]})": reasons[(group, kind)]
        for group, kind in sorted(counts, key=lambda k: k[1])
    }


def summarize(outcome: runner.Outcome, notes: Sequence[str] = ()) -> Summary:
    final = outcome.final
    flux_objects = _flux_objects(final)
    index = why.Objects(final)
    chains = tuple(
        why.render(why.chain(index, o.ref))
        for o in flux_objects
        if o.ready != "True" and not (o.suspended or o.static)
    )
    stubs = tuple(
        f"CustomResourceDefinition {r['crd']}: an open schema for {r['object_kind']}, which nothing defined"
        for r in outcome.trace.records
        if r["kind"] == "stub"
    )
    return Summary(
        title=outcome.scenario.name,
        virtual_ms=outcome.virtual_ms,
        flux=tuple(flux_objects),
        applied=_applied(final),
        why=chains,
        stored_only=_stored_only(final),
        stood_in=(*notes, *stubs),
        failure=str(outcome.failure) if outcome.failure is not None else None,
    )


def render(summary: Summary) -> str:
    ready = sum(o.ready == "True" for o in summary.flux)
    counted = sum(not o.static for o in summary.flux)
    lines = [
        f"{summary.title}: {ready} of {counted} Flux objects Ready "
        f"after {duration.format(summary.virtual_ms)} of virtual time",
        "",
    ]
    width = max((len(o.ref) for o in summary.flux), default=0)
    for o in summary.flux:
        mark = "✔" if o.ready == "True" else ("◎" if o.suspended else "·" if o.static else "✗")
        state = (
            "suspended"
            if o.suspended
            else "static (Flux keeps no status for it)"
            if o.static
            else o.reason
            if o.ready != "True"
            else ""
        )
        message = o.message.replace("\n", " ")
        lines.append(f"{mark} {o.ref:<{width}}  {state + ': ' if state else ''}{message}".rstrip())
    if summary.applied:
        lines += ["", "Applied: " + ", ".join(f"{kind} {n}" for kind, n in summary.applied.items())]
    if summary.why:
        lines += ["", "Not Ready, and why:"]
        for chain in summary.why:
            lines += ["  " + line for line in chain.splitlines()]
    if summary.stored_only:
        lines += ["", "Kept but not simulated:"]
        lines += [f"  {kind}: {reason}" for kind, reason in summary.stored_only.items()]
    if summary.stood_in:
        lines += ["", "Stood in by gitops-sim:"]
        lines += [f"  {note}" for note in summary.stood_in]
    if summary.failure:
        lines += ["", f"The run stopped: {summary.failure}"]
    return "\n".join(lines) + "\n"

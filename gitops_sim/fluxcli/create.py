"""`flux create` (the checks of its pre-run and the apply-and-wait flow every create command
shares) and `flux delete`, as flux2 cmd/flux/create*.go and delete.go run them. The objects each
kind's flags make are `create_kinds`'.

create checks the name first (an RFC 1123 label of two characters or more) and the labels
(`--label k=v[,k=v]`), builds the object from the flags (Flux's defaults: `--interval 1m0s`, the
Kustomization's `--health-check-timeout 2m0s` written as `timeout` with `--wait`), and with
`--export` prints it (`---`, then YAML with sorted keys and Go's duration strings) without
touching the cluster. Otherwise `create` applies it: `✚ generating …`, the credentials Secret if
one is made (`► applying secret with …`, `✔ authentication configured`), `► applying …`, `✔ …
created|updated` (an update replaces the labels and the spec); then it waits for the reconcile
(`◎ waiting for … reconciliation`, readiness.go's checks every 2 s) and prints what was fetched or
applied (`✔ fetched revision: …`, `✔ <Kind> <name> is ready`, `✔ applied revision …`, `✔
generated webhook URL …`).

delete refuses without `--silent` (the CLI asks "Are you sure you want to delete this …";
nobody answers here, so it aborts), else `► deleting <kind> NAME in <ns> namespace`,
`✔ <kind> deleted`.

Differences, on purpose: `create source git` makes no credentials (`--secret-ref` names an
existing Secret; `--username`/`--password` and deploy keys are not offered); `create secret …`
is not offered.

Callers: `fluxcli.command`. Sees only the `Cluster` protocol.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitops_sim.cluster import errors
from gitops_sim.fluxcli import reconcile as reconciles
from gitops_sim.fluxcli.session import FluxError, Session
from gitops_sim.model import conditions, kstatus, objects, refs

FIELD_MANAGER = "flux-client-side-apply"


NAME = re.compile(r"[a-z0-9]([a-z0-9\-]){0,61}[a-z0-9]")
"""What create's pre-run accepts as a name (two characters at least)."""
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_PREFIX = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_NAME_PART = (
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
    "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
)
_LABEL_VALUE = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used "
    "for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
)


def checked_name(name: str | None) -> str:
    """create's pre-run: a name is given, and is an RFC 1123 label of two characters or more."""
    if not name:
        raise FluxError("name is required")
    if not NAME.fullmatch(name):
        raise FluxError(
            f"name '{name}' is invalid, it should adhere to standard defined in RFC 1123, the name can only "
            "contain alphanumeric characters or '-'"
        )
    return name


def labels(pairs: list[str]) -> dict[str, str]:
    """`--label key=value[,key=value]` (repeatable): keys qualified names, values label values."""
    out: dict[str, str] = {}
    for pair in pairs:
        parts = pair.split("=")
        if len(parts) != 2:
            raise FluxError(f"invalid label format '{pair}', must be key=value")
        key, value = parts
        prefix, slash, part = key.rpartition("/")
        if not _QUALIFIED.fullmatch(part) or len(part) > 63 or (slash and not _PREFIX.fullmatch(prefix)):
            raise FluxError(f"invalid label '{key}': [{_NAME_PART}]")
        if value and (not _QUALIFIED.fullmatch(value) or len(value) > 63):
            raise FluxError(f"invalid label value '{value}': [{_LABEL_VALUE}]")
        out[key] = value
    return out


@dataclass(frozen=True, slots=True)
class Flow:
    """How a `create` command applies and waits: `what` is named in `► applying <what>` and `◎
    waiting for <what> reconciliation`, `created` in `✔ <created> created|updated`; `generate`:
    whether `✚ generating <what>` is printed here (not at all for OCIRepository, before the last
    checks for HelmRelease and the notification kinds); `static`: ready once it can be read
    (kinds with no status: Alert, Provider, an OCI HelmRepository)."""

    what: str
    created: str = ""
    generate: bool = True
    static: bool = False


def create(
    session: Session,
    obj: objects.RawObject,
    flow: Flow,
    secret: tuple[objects.RawObject, str] | None = None,
) -> None:
    """Apply `obj` (after the credentials `secret`, with the line that announces it) and wait
    for its reconcile; then print what it fetched or applied, as each create command does."""
    log = session.log
    ref = objects.ref_of(obj)
    if flow.generate:
        log.generate(f"generating {flow.what}")
    if secret is not None:
        log.action(secret[1])
        _upsert_secret(session, secret[0])
        log.success("authentication configured")
    log.action(f"applying {flow.what}")
    try:
        existing = session.cluster.get(ref)
    except errors.NotFound:
        existing = None
    try:
        if existing is None:
            session.cluster.create(obj, field_manager=FIELD_MANAGER)
        else:  # labels and spec replaced, the rest kept (the commands' upsert functions)
            updated = objects.deep_copy(existing)
            updated["metadata"]["labels"] = obj["metadata"].get("labels") or {}
            updated["spec"] = obj["spec"]
            session.cluster.update(updated, field_manager=FIELD_MANAGER)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc
    log.success(f"{flow.created or flow.what} {'created' if existing is None else 'updated'}")
    log.waiting(f"waiting for {flow.what} reconciliation")
    done: list[objects.RawObject] = []

    def ready() -> bool:
        now = session.cluster.get(ref)
        if not flow.static and not _caught_up(now):
            return False
        result = kstatus.compute(now)
        if result.status == kstatus.Status.IN_PROGRESS:
            return False
        if result.status != kstatus.Status.CURRENT:
            raise FluxError(result.message)
        done.append(now)
        return True

    if not session.poll(ready):
        raise FluxError("context deadline exceeded")
    _report(session, done[0])


def _caught_up(obj: objects.RawObject) -> bool:
    """readiness.go's dynamic check before kstatus: observed, a Ready condition, this generation."""
    status = obj.get("status") or {}
    if int(status.get("observedGeneration") or 0) < 1:
        return False
    ready = conditions.get(obj, "Ready")
    if ready is None:
        return False
    generation = obj["metadata"].get("generation")
    observed = ready.get("observedGeneration") or status.get("observedGeneration")
    return bool(observed == generation)


def _report(session: Session, obj: objects.RawObject) -> None:
    """What a create command prints once its object is ready."""
    log = session.log
    kind, name = obj["kind"], obj["metadata"]["name"]
    status = obj.get("status") or {}
    revision = (status.get("artifact") or {}).get("revision")
    if kind in ("GitRepository", "HelmRepository", "Bucket"):
        what = f"{kind} source reconciliation"
        log.success(f"{what} completed")
        if kind == "HelmRepository" and (obj.get("spec") or {}).get("type") == "oci":
            return
        if not revision:
            missing = "" if kind == "Bucket" else " completed"
            raise FluxError(f"{what}{missing} but no artifact was found")
        log.success(f"fetched revision: {revision}")
    elif kind == "OCIRepository":
        log.success("OCIRepository reconciliation completed")
        if not revision:
            raise FluxError("no artifact was found")
        log.success(f"fetched revision: {revision}")
    elif kind in ("Kustomization", "HelmRelease", "Alert", "Provider", "Receiver"):
        log.success(f"{kind} {name} is ready")
        if kind == "Kustomization":
            log.success(f"applied revision {status.get('lastAppliedRevision', '')}")
        elif kind == "HelmRelease":
            history = status.get("history") or []
            applied = history[0].get("chartVersion") if history else status.get("lastAttemptedRevision")
            log.success(f"applied revision {applied or ''}")
        elif kind == "Receiver":
            log.success(f"generated webhook URL {status.get('webhookPath', '')}")
    else:
        log.success(f"{kind} reconciliation completed")


def _upsert_secret(session: Session, secret: objects.RawObject) -> None:
    """create_secret.go's upsertSecret: created as given, or its stringData replaced and its
    labels and annotations merged."""
    ref = objects.ref_of(secret)
    try:
        try:
            existing = session.cluster.get(ref)
        except errors.NotFound:
            session.cluster.create(secret, field_manager=FIELD_MANAGER)
            return
        updated = objects.deep_copy(existing)
        for key in ("labels", "annotations"):
            if secret["metadata"].get(key):
                updated["metadata"].setdefault(key, {}).update(secret["metadata"][key])
        updated["stringData"] = secret.get("stringData") or {}
        session.cluster.update(updated, field_manager=FIELD_MANAGER)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc


def delete(session: Session, key: str, names: list[str], *, silent: bool) -> None:
    """`flux delete <kind> NAME [--silent]`."""
    kind = reconciles.KINDS[key]
    gvk, human = kind.gvk, kind.human
    if not names:
        raise FluxError(f"{human} name is required")
    ref = refs.ObjectRef(gvk.group, gvk.kind, session.namespace, names[0])
    try:
        session.cluster.get(ref)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc
    if not silent:
        raise FluxError("aborting")  # the CLI asks "Are you sure you want to delete this …"; nobody answers
    session.log.action(f"deleting {human} {names[0]} in {session.namespace} namespace")
    try:
        session.cluster.delete(ref)
    except errors.ApiError as exc:
        raise FluxError(exc.message) from exc
    session.log.success(f"{human} deleted")

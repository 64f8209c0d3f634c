"""`flux migrate`: Flux's objects moved to the API versions Flux 2.10 serves, in the cluster or in
manifest files (flux2 cmd/flux/migrate.go).

Cluster mode (no `-f`): for each CRD labelled `app.kubernetes.io/part-of=flux`, every object is
rewritten at the CRD's storage version (`✔ Kind/ns/name migrated to version v1`), then the CRD's
`status.storedVersions` is set to that version alone (`✔ <crd> migrated to storage version v1`).

File mode (`-f PATH`): every `apiVersion: <group>/<old>` line followed by a `kind: <Kind>` line of
a Flux kind whose served version is newer is reported (`✚ file:line: Kind old -> new`) and, unless
`--dry-run`, rewritten in place, the rest of the file kept byte for byte; without `--yes` the CLI
asks for confirmation (here nobody answers, so it stops there).

Callers: `fluxcli.command` (file mode only from the command line: a scenario has no files to
write). Sees only the `Cluster` protocol and the files the session lets it write.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gitops_sim.cluster import errors
from gitops_sim.fluxcli.session import FluxError, Log, Session
from gitops_sim.model import flux, objects, refs

LATEST: dict[tuple[str, str], str] = {
    (gvk.group, gvk.kind): gvk.version
    for gvk in (
        flux.GITREPOSITORY,
        flux.OCIREPOSITORY,
        flux.HELMREPOSITORY,
        flux.HELMCHART,
        flux.BUCKET,
        flux.EXTERNALARTIFACT,
        flux.KUSTOMIZATION,
        flux.HELMRELEASE,
        flux.IMAGEREPOSITORY,
        flux.IMAGEPOLICY,
        flux.IMAGEUPDATEAUTOMATION,
        flux.ALERT,
        flux.PROVIDER,
        flux.RECEIVER,
    )
}
"""The version Flux 2.10 serves for each kind (its CRDs' storage versions)."""

CRD = refs.GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")


def cluster(session: Session) -> None:
    """Cluster mode."""
    log = session.log
    log.action("starting migration of custom resources")
    try:
        crds = session.cluster.list(CRD, labels={"app.kubernetes.io/part-of": "flux"})
    except errors.ApiError as exc:
        raise FluxError(f"failed to list CRDs: {exc.message}") from exc
    for crd in crds:
        name = crd["metadata"]["name"]
        storage = next((v["name"] for v in crd["spec"].get("versions") or [] if v.get("storage")), None)
        if storage is None:
            raise FluxError(f"no storage version found for CRD {name}")
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for item in session.cluster.list(refs.GroupKind(group, kind)):
            ref = objects.ref_of(item)
            item["apiVersion"] = f"{group}/{storage}"
            item["metadata"].pop("managedFields", None)
            try:
                session.cluster.update(item, field_manager="flux-client-side-apply")
            except errors.ApiError as exc:
                raise FluxError(
                    f" {kind}/{ref.namespace}/{ref.name} failed to migrate: {exc.message}"
                ) from exc
            log.success(f"{kind}/{ref.namespace}/{ref.name} migrated to version {storage}")
        live = session.cluster.get(objects.ref_of(crd))
        live.setdefault("status", {})["storedVersions"] = [storage]
        try:
            session.cluster.update(live, field_manager="flux-client-side-apply", subresource="status")
        except errors.ApiError as exc:
            raise FluxError(f"failed to update CRD {name} status: {exc.message}") from exc
        log.success(f"{name} migrated to storage version {storage}")
    log.success("custom resources migrated successfully")


def _upgrades(text: str) -> list[tuple[int, str, str, str]]:
    """(line index, kind, old version, new version) for each outdated Flux object header."""
    lines = text.split("\n")
    found = []
    for i, line in enumerate(lines[:-1]):
        at = line.find("apiVersion: ")
        kind_at = lines[i + 1].find("kind: ")
        if at == -1 or kind_at == -1:
            continue
        api_version = line[at + len("apiVersion: ") :].strip().split(" ")[0]
        kind = lines[i + 1][kind_at + len("kind: ") :].strip().split(" ")[0]
        group, _, version = api_version.rpartition("/")
        latest = LATEST.get((group, kind))
        if latest is not None and latest != version:
            found.append((i, kind, version, latest))
    return found


def files(log: Log, path: Path, *, extensions: Sequence[str], dry_run: bool, yes: bool) -> None:
    """File mode (see the module docstring): it reads no cluster; writes only with `yes`."""
    log.action("starting migration of custom resources")
    if path.is_dir():
        listed = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in extensions)
    elif path.is_file():
        if path.suffix not in extensions:
            raise FluxError(f"file {path} does not match the specified extensions: [{' '.join(extensions)}]")
        listed = [path]
    else:
        raise FluxError(f"failed to stat path {path}: no such file or directory")
    plans = []
    for file in listed:
        text = file.read_text(errors="surrogateescape")
        found = _upgrades(text)
        for line, kind, old, new in found:
            log.generate(f"{file}:{line + 1}: {kind} {old} -> {new}")
        if found:
            plans.append((file, text, found))
    if not plans:
        log.success("no custom resources found that require migration")
        return
    if dry_run:
        log.success("dry-run mode enabled, no changes will be made")
        return
    if not yes:
        raise FluxError("aborting")  # the CLI asks "Are you sure you want to proceed…"; nobody answers
    for file, text, found in plans:
        lines = text.split("\n")
        for line, _kind, old, new in found:
            lines[line] = lines[line].replace(old, new, 1)
        file.write_text("\n".join(lines), errors="surrogateescape")
        log.success(f"file {file} migrated successfully")
    log.success("custom resources migrated successfully")

"""`gitops-sim up`: a Flux repository folder, unchanged, run as Flux would run it after bootstrap.

`plan(folder, path=…, for_ms=…)` turns the folder into a scenario the runner runs:

- The sync comes from the repository, as the cluster would get it:
  - a bootstrap's `flux-system/gotk-sync.yaml` (found under `--path`, or the one in the
    repository): its GitRepository and Kustomization(s), applied as `flux bootstrap` applies them;
  - or a Flux Operator `FluxInstance` with `spec.sync`: the GitRepository and Kustomization the
    operator makes from it (named after the instance, in its namespace);
  - or, with neither, `--path` alone: a GitRepository `flux-system` for the repository and a
    Kustomization `flux-system` for that path (10m interval, `prune: true`), as bootstrap writes.
- The folder (its `.git` left out) is the repository the GitRepository's URL names, ssh:// and
  https:// alike, at its branch: committed once, served over git's smart HTTP by the simulation.
- Flux 2.10 is installed before t=0 with every component (the repository's own
  `gotk-components.yaml`, if any, is then applied by its flux-system Kustomization, as on a real
  cluster). A GitRepository's `secretRef` that nothing in the repository provides (bootstrap's
  deploy key lives only in the cluster) is stood in for by a Secret with placeholder values: the
  simulation's git server asks for no key.
- Then virtual time runs for `for_ms`.

Where this differs from a cluster, `Plan.notes` says so (the summary prints them). The plan
never runs anything: `runner` does.

Callers: the CLI (`gitops-sim up`) and `testing.run_repo`. It reads the folder and nothing else;
it must never write to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import flux, yamlsafe
from gitops_sim.scenario import runner, schema, summary
from gitops_sim.scenario.located import LoadError, Location
from gitops_sim.scenario.steps import advance, fields

DEFAULT_URL = "https://git.gitops-sim.local/{name}"
_SYNC_FILE = "gotk-sync.yaml"
_FLUX_NS = "flux-system"


class RepositoryError(Exception):
    """The folder cannot be run as a Flux repository; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Plan:
    scenario: schema.Scenario
    sync: str
    """Where the sync came from: `clusters/staging/flux-system/gotk-sync.yaml`, a FluxInstance, `--path`."""
    notes: tuple[str, ...]
    """What gitops-sim stood in for or inferred (printed in the summary)."""


def _documents(folder: Path, rel: str) -> list[dict[str, Any]]:
    text = (folder / rel).read_text(encoding="utf-8", errors="replace")
    try:
        docs = yamlsafe.load_all(text)
    except Exception as exc:  # any YAML the repository holds: said, never raised
        raise RepositoryError(f"{rel}: not valid YAML: {exc}") from exc
    return [d for d in docs if isinstance(d, dict)]


def _yaml_files(folder: Path, under: str) -> list[str]:
    base = (folder / under).resolve()
    if not base.is_relative_to(folder.resolve()):
        raise RepositoryError(f"--path {under}: outside {folder}")
    if not base.is_dir():
        raise RepositoryError(f"--path {under}: no such folder in {folder}")
    found = []
    for file in sorted(base.rglob("*")):
        rel = file.relative_to(folder).as_posix()
        if ".git" in file.relative_to(folder).parts or not file.is_file():
            continue
        if file.suffix in (".yaml", ".yml"):
            found.append(rel)
    return found


def _sync_files(folder: Path, under: str) -> list[str]:
    return [rel for rel in _yaml_files(folder, under) if rel.endswith(f"/{_SYNC_FILE}") or rel == _SYNC_FILE]


def _flux_instances(folder: Path, under: str) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for rel in _yaml_files(folder, under):
        head = (folder / rel).read_text(encoding="utf-8", errors="replace")
        if "FluxInstance" not in head:
            continue
        for doc in _documents(folder, rel):
            operator = str(doc.get("apiVersion", "")).startswith("fluxcd.controlplane.io/")
            if (
                doc.get("kind") == "FluxInstance"
                and operator
                and isinstance((doc.get("spec") or {}).get("sync"), dict)
            ):
                found.append((rel, doc))
    return found


def _repo_name(folder: Path) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", folder.resolve().name).strip("-.") or "repository"
    return name[:63]


def _manifest(obj: dict[str, Any], loc: Location, where: str) -> schema.Manifest:
    return schema.Manifest(obj, loc, where)


def _sync_from_instance(rel: str, instance: dict[str, Any]) -> list[dict[str, Any]]:
    """The GitRepository and Kustomization the Flux Operator makes from a FluxInstance's sync."""
    meta = instance.get("metadata") or {}
    sync = instance["spec"]["sync"]
    name = str(sync.get("name") or meta.get("namespace") or _FLUX_NS)
    namespace = str(meta.get("namespace") or _FLUX_NS)
    kind = str(sync.get("kind", "GitRepository"))
    if kind != "GitRepository":
        raise RepositoryError(f"{rel}: FluxInstance sync.kind {kind}: only GitRepository is run by `up`")
    ref = str(sync.get("ref", "refs/heads/main"))
    git_ref = (
        {"branch": ref.removeprefix("refs/heads/")}
        if not ref.startswith("refs/tags/")
        else {"tag": ref.removeprefix("refs/tags/")}
    )
    source: dict[str, Any] = {
        "url": str(sync.get("url", "")),
        "ref": git_ref,
        "interval": str(sync.get("interval", "1m")),
    }
    if sync.get("pullSecret"):
        source["secretRef"] = {"name": str(sync["pullSecret"])}
    return [
        {
            "apiVersion": f"{flux.SOURCE_GROUP}/v1",
            "kind": "GitRepository",
            "metadata": {"name": name, "namespace": namespace},
            "spec": source,
        },
        {
            "apiVersion": f"{flux.KUSTOMIZE_GROUP}/v1",
            "kind": "Kustomization",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {
                "interval": str(sync.get("interval", "10m")),
                "path": str(sync.get("path", "./")),
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": name},
            },
        },
    ]


def _default_sync(path: str, url: str) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": f"{flux.SOURCE_GROUP}/v1",
            "kind": "GitRepository",
            "metadata": {"name": _FLUX_NS, "namespace": _FLUX_NS},
            "spec": {"interval": "1m0s", "ref": {"branch": "main"}, "url": url},
        },
        {
            "apiVersion": f"{flux.KUSTOMIZE_GROUP}/v1",
            "kind": "Kustomization",
            "metadata": {"name": _FLUX_NS, "namespace": _FLUX_NS},
            "spec": {
                "interval": "10m0s",
                "path": f"./{path.strip('/')}",
                "prune": True,
                "sourceRef": {"kind": "GitRepository", "name": _FLUX_NS},
            },
        },
    ]


def _git_repositories(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        d
        for d in docs
        if d.get("kind") == "GitRepository" and str(d.get("apiVersion", "")).startswith(flux.SOURCE_GROUP)
    ]


def _extra(files: Sequence[Path]) -> list[schema.Manifest]:
    """The manifests of `--apply` files: what lives in the cluster only (a SOPS key, say)."""
    out: list[schema.Manifest] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RepositoryError(f"--apply {file}: cannot be read: {exc}") from exc
        try:
            out.extend(
                fields.manifests(
                    text, Location(str(file), 0, 1), f"--apply {file}", fields.Context(file.parent, str(file))
                )
            )
        except LoadError as exc:
            raise RepositoryError(str(exc)) from exc
    return out


def plan(
    folder: Path, *, path: str | None = None, for_ms: int, seed: int = 0, apply: Sequence[Path] = ()
) -> Plan:
    """How `up` runs `folder` (see the module); `apply`: manifest files applied first, as the
    cluster's own (what never is in Git: a SOPS key, a token). Raises `RepositoryError` when it
    cannot."""
    if not folder.is_dir():
        raise RepositoryError(f"{folder}: not a folder")
    folder = folder.resolve()
    under = (path or ".").strip("/") or "."
    notes: list[str] = []
    syncs = _sync_files(folder, under)
    instances = _flux_instances(folder, under) if not syncs else []
    name = _repo_name(folder)
    if len(syncs) > 1:
        raise RepositoryError(
            f"{len(syncs)} clusters in {folder.name}: "
            f"{', '.join(s.rsplit('/', 2)[0] for s in syncs)}; pick one with --path"
        )
    if syncs:
        sync, docs = syncs[0], _documents(folder, syncs[0])
    elif len(instances) == 1:
        sync, docs = f"{instances[0][0]} (FluxInstance)", _sync_from_instance(*instances[0])
        notes.append(
            "the sync of the FluxInstance, made as the Flux Operator makes it (the operator is not simulated)"
        )
    elif len(instances) > 1:
        raise RepositoryError(f"{len(instances)} FluxInstances in {folder.name}; pick one with --path")
    elif path is not None:
        sync, docs = f"--path {path}", _default_sync(under, DEFAULT_URL.format(name=name))
        notes.append(
            f"no gotk-sync.yaml: a flux-system GitRepository and Kustomization for ./{under}, "
            "as bootstrap writes them"
        )
    else:
        raise RepositoryError(
            f"no flux-system/{_SYNC_FILE} or FluxInstance in {folder.name}: "
            "name the cluster's folder with --path"
        )
    sources = _git_repositories(docs)
    if len(sources) != 1:
        raise RepositoryError(f"{sync}: expected one GitRepository, found {len(sources)}")
    spec = sources[0].get("spec") or {}
    url = str(spec.get("url", ""))
    if not url:
        raise RepositoryError(f"{sync}: the GitRepository has no spec.url")
    ref = spec.get("ref") or {}
    branch = str(ref.get("branch") or "main")
    if ref.get("tag") or ref.get("semver") or ref.get("commit") or ref.get("name"):
        raise RepositoryError(f"{sync}: the GitRepository follows {ref}; `up` serves the folder as a branch")
    loc = Location(str(folder / sync.split(" ")[0]) if syncs else str(folder), 1, 1)
    try:
        files = fields.read_folder(folder, Location(str(folder), 1, 1), "repository", skip_git=True)
    except LoadError as exc:
        raise RepositoryError(str(exc)) from exc
    extra = _extra(apply)
    manifests = [*extra, *(_manifest(doc, loc, "sync") for doc in docs)]
    secret = (spec.get("secretRef") or {}).get("name")
    namespace = str((sources[0].get("metadata") or {}).get("namespace") or _FLUX_NS)
    given = [*docs, *(m.obj for m in extra)]
    if secret and not any(
        d.get("kind") == "Secret" and (d.get("metadata") or {}).get("name") == secret for d in given
    ):
        manifests.insert(len(extra), _manifest(_stand_in_secret(str(secret), namespace, url), loc, "sync"))
        notes.append(
            f"Secret {namespace}/{secret} (the GitRepository's key, which bootstrap keeps in the "
            "cluster only): placeholder values; the simulation's git server asks for no key"
        )
    scenario = schema.Scenario(
        path=folder,
        name=f"{name} ({sync})",
        description=f"gitops-sim up {folder}",
        seed=seed,
        start_ms=None,
        repos=(
            schema.Repo(
                name=name,
                url=url,
                branch=branch,
                files=dict(files),
                message=f"Import {folder.name}",
                loc=Location(str(folder), 1, 1),
            ),
        ),
        apply=tuple(manifests),
        steps=(schema.Step(0, "advance", advance.Advance(for_ms), Location(str(folder), 1, 1)),),
    )
    return Plan(scenario, sync, tuple(notes))


def _stand_in_secret(name: str, namespace: str, url: str) -> dict[str, Any]:
    data = (
        {"identity": "placeholder", "identity.pub": "placeholder", "known_hosts": "placeholder"}
        if url.startswith("ssh://")
        else {"username": "git", "password": "placeholder"}
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace, "labels": {"gitops-sim.io/stand-in": "true"}},
        "stringData": data,
    }


@dataclass(frozen=True, slots=True)
class Result:
    plan: Plan
    outcome: runner.Outcome
    summary: summary.Summary

    @property
    def ready(self) -> bool:
        """Every Flux object (but the suspended) is Ready, and the run did not stop early."""
        return self.summary.ready


def run(
    folder: Path,
    workdir: Path,
    *,
    path: str | None = None,
    for_ms: int = 30 * 60_000,
    seed: int = 0,
    stub_unknown_kinds: bool = False,
    keep_history: bool = False,
    prepare: Callable[[simulation.Simulation], Sequence[str]] | None = None,
    progress: Callable[[int], None] | None = None,
    apply: Sequence[Path] = (),
    cache_dir: Path | None = None,
) -> Result:
    """Plan `folder`, run it in `workdir` and summarize it. `prepare` is handed the simulation
    before anything runs (the offline mirror loads itself there) and returns notes for the
    summary; `cache_dir` keeps kustomize builds and Helm renders (`Settings.cache_dir`). Raises
    `RepositoryError` when the folder cannot be planned."""
    planned = plan(folder, path=path, for_ms=for_ms, seed=seed, apply=apply)
    one = runner.Runner(
        planned.scenario,
        workdir,
        keep_history=keep_history,
        progress=progress,
        stub_unknown_kinds=stub_unknown_kinds,
        cache_dir=cache_dir,
    )
    try:
        notes = list(prepare(one.sim)) if prepare is not None else []
        with runner.collector_paused():
            outcome = one.run()
    finally:
        one.sim.close()
    return Result(planned, outcome, summary.summarize(outcome, [*planned.notes, *notes]))

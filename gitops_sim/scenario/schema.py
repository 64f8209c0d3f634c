"""The scenario language (v1alpha1): its model, and the parser that checks a file against it.

A scenario is a short story: git repositories with their first files, Flux objects applied at the
start, then steps. Every error names the file, line, column and field, and says what would be
valid (`fleet.yaml:31:7: steps[2].drift.set: expected a mapping of field paths to values`).

Top level:
    name (required), description, seed (int, default 0), start (RFC 3339 time of t=0),
    repos: {<name>: {url (required), branch (default main), files: {path: text}, dir: folder,
            message: first commit message}},
    apply: manifests applied before the first step, as `kubectl apply --server-side` would,
    steps: a list; each item has exactly one of the step keys below.

Steps: each is declared by a module of `scenario.steps`, which owns its keys, its parser and
its documentation; this module iterates that registry and holds no per-step code. `STEP_KEYS`
lists them in order, `usage()` prints each step with its fields (what `gitops-sim` shows as the
language's reference), and `FAULT_TYPES` the targets and types of `fault`. The step value types
(`Commit`, `Fault`, `Expect`, ...) are re-exported here as the scenario model.

Strings in expectations may use `${repos.<name>.head}` (the SHA at the head of the repository's
branch) and `${repos.<name>.branches.<branch>}`, resolved when the expectation is checked.

Hostile input (the file is untrusted; every refusal is a `LoadError` with file:line:column):
    - free-text fields (`name`, `description`, messages) must be strings;
    - durations are Go durations within Go's range (`time.ParseDuration` refuses more than
      2562047h, so does `model.duration.parse`), and never negative here;
    - the virtual time a scenario asks for (its `advance`s and `within`s added up) must stay within
      a horizon, `DEFAULT_HORIZON_MS` (one year) unless the caller gives another, and before the
      end of year 9999; the error names the step that crosses it;
    - `start` is an RFC 3339 time (`2025-01-01T00:00:00Z`) from 1970 to 9000;
    - repository names, file paths in repositories and branch and tag names follow the rules of
      `sources.gitnames` (`repo_name_problem`, `path_problem`, `ref_problem`: what git itself accepts,
      and nothing starting with `-`, which a git command would take for an option);
    - `dir:` and `file:` are relative paths that resolve (symlinks followed) inside the scenario
      file's folder; a `file:` must be UTF-8 text (it holds manifests), a repository file under
      `dir:` is carried as its bytes (a PNG is committed byte for byte: repositories are bytes,
      and Flux's source-controller packs whatever `.sourceignore` lets through). A `dir:` holds at
      most `MAX_DIR_FILES` files of at most `located.MAX_FILE_BYTES` each, `MAX_DIR_BYTES` in all.
      Inline `files:` are text (a YAML string), committed as UTF-8.

Callers: `scenario.loader` (files to models), the runner (models). This module must never read
a file outside the scenario's folder, nor run anything, nor import a runtime module (engine,
controllers, cluster, storage): the step declarations it reads are schema-side only (see
`scenario.steps`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from gitops_sim.model import duration
from gitops_sim.scenario import steps
from gitops_sim.scenario.located import LDict, LList, Location
from gitops_sim.scenario.steps import fields, registry
from gitops_sim.sources import gitnames
from gitops_sim.timing import clock as clocks

API_VERSION = "gitops-sim/v1alpha1"
KIND = "Scenario"
"""What a scenario file declares itself with (`apiVersion`, `kind`): folders are searched for
files that do (`loader.discover`)."""

DEFAULT_HORIZON_MS = 365 * 24 * 3_600_000
"""How much virtual time a scenario may ask for (its advances and waits), unless told otherwise."""
USER_MANAGER = "kubectl"
"""The field manager of what a scenario applies (`apply`), as `kubectl apply --server-side` names
itself; the runner applies with it and `validate` checks with it."""

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
START_MIN_MS = 0  # 1970-01-01T00:00:00Z
START_MAX_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z
END_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z: the last time a timestamp can print
MAX_DIR_FILES = fields.MAX_DIR_FILES
MAX_DIR_BYTES = fields.MAX_DIR_BYTES
read_folder = fields.read_folder
"""The bytes of a `dir:` folder's files (`fields.read_folder`)."""

# The scenario model: the built-in steps' value types, declared in `scenario.steps`.
Manifest = fields.Manifest
Action = registry.Action
Apply = steps.apply.Apply
Commit = steps.git.Commit
Tag = steps.git.Tag
PushArtifact = steps.artifacts.PushArtifact
PushImage = steps.artifacts.PushImage
PublishChart = steps.artifacts.PublishChart
PutObject = steps.artifacts.PutObject
Fault = steps.faults.Fault
Heal = steps.faults.Heal
Drift = steps.drift.Drift
Delete = steps.delete.Delete
Reconcile = steps.reconcile.Reconcile
Advance = steps.advance.Advance
Expectation = steps.expect.Expectation
Expect = steps.expect.Expect
EXPECT_KEYS = steps.expect.EXPECT_KEYS
FAULT_TYPES = steps.faults.FAULT_TYPES
"""Fault types by target (`repo`, `registry`, ...), from the targets `steps.faults` declares."""


@dataclass(frozen=True, slots=True)
class Repo:
    name: str
    url: str
    branch: str
    files: dict[str, str | bytes]  # text from `files:`, bytes from `dir:`
    message: str
    loc: Location
    auth: dict[str, str] | None = None
    """What the git server requires: {username, password} or {bearerToken}."""


@dataclass(frozen=True, slots=True)
class Sink:
    """An HTTP endpoint that receives notifications, hosted under the URL a Provider names."""

    name: str
    url: str
    type: str
    """The provider type whose payloads it receives (how `expect: notification` reads them)."""
    loc: Location


@dataclass(frozen=True, slots=True)
class Step:
    index: int
    keyword: str
    action: Action
    loc: Location


@dataclass(frozen=True, slots=True)
class Scenario:
    path: Path
    name: str
    description: str
    seed: int
    start_ms: int | None
    repos: tuple[Repo, ...]
    apply: tuple[Manifest, ...]
    steps: tuple[Step, ...] = field(default_factory=tuple)
    images: tuple[str, ...] = ()
    """Container images in the scenario's registries from the start (host/name:tag)."""
    kubelet: dict[str, int] = field(default_factory=dict)
    """Pod step durations on the simulated node: pull, ready, run (milliseconds)."""
    sinks: tuple[Sink, ...] = ()
    """HTTP endpoints that receive notifications."""
    flux_installed: bool = True
    """`cluster: {flux: installed}` (default): Flux's Deployments are there from before t=0;
    `absent`: a cluster without Flux, until a step installs it (`flux: install`, `bootstrap`)."""
    line: int = 1
    """The line of its `name` (what reports point at)."""


# -- parsing ---------------------------------------------------------------------------------


def _start(value: Any, loc: Location) -> int:
    text = fields.string(value, loc, "start")
    if not _RFC3339.fullmatch(text):
        raise fields.fail(
            loc, "start", f"expected an RFC 3339 time such as 2025-01-01T00:00:00Z; got {text!r}"
        )
    try:
        ms = duration.parse_rfc3339(text)
    except (duration.DurationError, OverflowError) as exc:
        raise fields.fail(loc, "start", str(exc)) from exc
    if not START_MIN_MS <= ms <= START_MAX_MS:
        raise fields.fail(
            loc, "start", f"expected a time from 1970-01-01T00:00:00Z to 9000-01-01T00:00:00Z; got {text!r}"
        )
    return ms


def parse(data: Any, path: Path, *, horizon_ms: int = DEFAULT_HORIZON_MS) -> Scenario:
    """The scenario `data` (from `located.load`) describes; `horizon_ms` bounds the virtual time
    its steps ask for."""
    ctx = fields.Context(path.parent, str(path))
    top = fields.mapping(
        data,
        Location(str(path), 1, 1),
        "scenario",
        TOP_KEYS,
        required=("name",),
    )
    if "apiVersion" in top and top["apiVersion"] != API_VERSION:
        raise fields.fail(top.value_locs["apiVersion"], "apiVersion", f"expected {API_VERSION!r}")
    if "$schema" in top:  # where an editor finds the language's JSON Schema; nothing else reads it
        fields.string(top["$schema"], top.value_locs["$schema"], "$schema")
    if "kind" in top and top["kind"] != KIND:
        raise fields.fail(top.value_locs["kind"], "kind", f"expected {KIND!r}")
    seed = top.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise fields.fail(
            fields.child_loc(top, "seed"), "seed", f"expected an integer; got {fields.kind(seed)}"
        )
    start_ms = _start(top["start"], top.value_locs["start"]) if "start" in top else None
    name = fields.text(top["name"], top.value_locs["name"], "name")
    description = (
        fields.text(top["description"], top.value_locs["description"], "description")
        if top.get("description") is not None
        else ""
    )
    repos = _repos(top.get("repos"), fields.child_loc(top, "repos"), ctx) if "repos" in top else ()
    initial = fields.manifests(top["apply"], top.value_locs["apply"], "apply", ctx) if "apply" in top else ()
    steps_raw = top.get("steps", LList())
    if not isinstance(steps_raw, LList):
        raise fields.fail(
            fields.child_loc(top, "steps"), "steps", f"expected a list of steps; got {fields.kind(steps_raw)}"
        )
    steps = tuple(_step(item, i, steps_raw, ctx) for i, item in enumerate(steps_raw))
    _within_horizon(steps, horizon_ms, start_ms if start_ms is not None else clocks.DEFAULT_EPOCH_MS)
    images = fields.images(top["images"], top.value_locs["images"], "images") if "images" in top else ()
    kubelet: dict[str, int] = {}
    if "kubelet" in top:
        spec = fields.mapping(top["kubelet"], top.value_locs["kubelet"], "kubelet", ("pull", "ready", "run"))
        kubelet = {k: fields.duration(v, spec.value_locs[k], f"kubelet.{k}") for k, v in spec.items()}
    sinks = _sinks(top["sinks"], top.value_locs["sinks"]) if "sinks" in top else ()
    flux_installed = True
    if "cluster" in top:
        spec = fields.mapping(
            top["cluster"], top.value_locs["cluster"], "cluster", ("flux",), required=("flux",)
        )
        choice = fields.string(spec["flux"], spec.value_locs["flux"], "cluster.flux")
        if choice not in ("installed", "absent"):
            raise fields.fail(
                spec.value_locs["flux"], "cluster.flux", f"expected installed or absent; got {choice!r}"
            )
        flux_installed = choice == "installed"
    return Scenario(
        sinks=sinks,
        flux_installed=flux_installed,
        path=path,
        name=name,
        description=description,
        seed=seed,
        start_ms=start_ms,
        repos=repos,
        apply=initial,
        steps=steps,
        images=images,
        kubelet=kubelet,
        line=top.value_locs["name"].line,
    )


def _sinks(value: Any, loc: Location) -> tuple[Sink, ...]:
    if not isinstance(value, LDict):
        raise fields.fail(
            loc, "sinks", f"expected a mapping of sink names to sinks; got {fields.kind(value)}"
        )
    out = []
    hosts: dict[str, str] = {}
    for name, spec in value.items():
        where, spec_loc = f"sinks.{name}", value.value_locs[name]
        fields.checked(gitnames.repo_name_problem(name), spec_loc, where)
        spec = fields.mapping(spec, spec_loc, where, ("url", "type"), required=("url",))
        url = fields.string(spec["url"], spec.value_locs["url"], f"{where}.url")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.username or parts.password:
            raise fields.fail(spec.value_locs["url"], f"{where}.url", "expected http(s)://host[:port][/path]")
        if parts.netloc in hosts:
            raise fields.fail(
                spec.value_locs["url"], f"{where}.url", f"sink {hosts[parts.netloc]!r} has this host"
            )
        hosts[parts.netloc] = name
        kind = (
            fields.string(spec["type"], spec.value_locs["type"], f"{where}.type")
            if "type" in spec
            else "generic"
        )
        out.append(Sink(name, url, kind, spec_loc))
    return tuple(out)


def _within_horizon(steps: tuple[Step, ...], horizon_ms: int, start_ms: int) -> None:
    """Refuse the first `advance` or `within` that takes the run past the horizon, or past the
    last printable date."""
    limit = min(horizon_ms, END_MS - start_ms)
    total = 0
    declared = registry.declared()
    for step in steps:
        for ms, loc, where in declared[step.keyword].spans(step.action, step.index, step.loc):
            total += ms
            if total > limit:
                if limit < horizon_ms:
                    reason = "past 9999-12-31T23:59:59Z, the last time a timestamp can show"
                else:
                    reason = f"beyond the horizon of {duration.format(horizon_ms)} (--horizon)"
                raise fields.fail(
                    loc, where, f"the scenario's virtual time would reach {duration.format(total)}, {reason}"
                )


def _repos(value: Any, loc: Location, ctx: fields.Context) -> tuple[Repo, ...]:
    if not isinstance(value, LDict):
        raise fields.fail(
            loc, "repos", f"expected a mapping of repository names to repositories; got {fields.kind(value)}"
        )
    out = []
    for name, spec in value.items():
        where = f"repos.{name}"
        spec_loc = value.value_locs[name]
        fields.checked(gitnames.repo_name_problem(name), spec_loc, where)
        spec = fields.mapping(
            spec, spec_loc, where, ("url", "branch", "files", "dir", "message", "auth"), required=("url",)
        )
        auth = None
        if "auth" in spec:
            auth_spec = fields.mapping(
                spec["auth"],
                spec.value_locs["auth"],
                f"{where}.auth",
                ("username", "password", "bearerToken"),
            )
            auth = {
                k: fields.string(v, auth_spec.value_locs[k], f"{where}.auth.{k}")
                for k, v in auth_spec.items()
            }
            if not auth:
                raise fields.fail(
                    spec.value_locs["auth"], f"{where}.auth", "expected username and password, or bearerToken"
                )
        files: dict[str, str | bytes | None] = {}
        if "dir" in spec:
            files.update(_dir(spec["dir"], spec.value_locs["dir"], f"{where}.dir", ctx))
        if "files" in spec:
            files.update(
                fields.files(spec["files"], spec.value_locs["files"], f"{where}.files", allow_null=False)
            )
        out.append(
            Repo(
                name=name,
                url=fields.string(spec["url"], spec.value_locs["url"], f"{where}.url"),
                branch=fields.git_ref(
                    spec.get("branch", "main"), fields.child_loc(spec, "branch"), f"{where}.branch"
                ),
                files={k: v for k, v in files.items() if v is not None},
                message=fields.text(
                    spec.get("message", "Initial commit"),
                    fields.child_loc(spec, "message"),
                    f"{where}.message",
                ),
                loc=spec_loc,
                auth=auth,
            )
        )
    return tuple(out)


def _dir(value: Any, loc: Location, where: str, ctx: fields.Context) -> dict[str, bytes]:
    """The bytes of the files under a `dir:` folder (see `read_folder`)."""
    return read_folder(ctx.inside(value, loc, where), loc, where)


TOP_KEYS = (
    "$schema",
    "apiVersion",
    "kind",
    "name",
    "description",
    "seed",
    "start",
    "repos",
    "images",
    "kubelet",
    "cluster",
    "sinks",
    "apply",
    "steps",
)
"""The keys a scenario file may have at its top level."""

STEP_KEYS = tuple(registry.declared())
"""The built-in step keys, in order (a step declared later, by a test or a plugin, is parsed too:
the parser reads the registry when it runs)."""


def usage() -> str:
    """The steps of the language, one per line with their fields, from the registry."""
    lines = [declaration.usage for declaration in registry.declared().values()]
    targets = ", ".join(f"{name} ({'|'.join(types)})" for name, types in FAULT_TYPES.items())
    return "\n".join([*lines, f"fault targets: {targets}"])


def _step(item: Any, index: int, parent: LList, ctx: fields.Context) -> Step:
    loc = parent.item_locs[index]
    where = f"steps[{index}]"
    declared = registry.declared()
    if not isinstance(item, LDict) or len(item) != 1:
        raise fields.fail(loc, where, f"each step is a mapping with exactly one of: {', '.join(declared)}")
    keyword = next(iter(item))
    declaration = declared.get(keyword)
    if declaration is None:
        raise fields.fail(
            item.value_locs[keyword],
            f"{where}.{keyword}",
            f"unknown step;{fields.did_you_mean(str(keyword), declared)} "
            f"expected one of: {', '.join(declared)}",
        )
    action = declaration.parse(item[keyword], item.value_locs[keyword], f"{where}.{keyword}", ctx)
    return Step(index, keyword, action, loc)

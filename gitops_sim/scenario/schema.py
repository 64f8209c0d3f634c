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

Steps:
    apply: a manifest, a list of them, or {file: path}; manifests are YAML text or mappings.
    commit: {repo, message, branch, files: {path: text or null to delete}, delete: [paths], author}
    drift: {object: Kind/ns/name, manager (default kubectl-edit), set: {field.path: value}, unset: [paths]}
    delete: Kind/ns/name
    reconcile: Kind/ns/name   (what `flux reconcile` does: sets reconcile.fluxcd.io/requestedAt)
    advance: a duration (10m, 1h30m, 500ms)
    expect: one expectation or a list; each is one of
        {object: ref, fields: {path: value}}   partial match of the live object (null: absent)
        {absent: ref}                           the object does not exist
        {condition: {object, type, status, reason, message}}
        {event: {object, type, reason, message}}   an event since the last action step began
      and may add `within: <duration>`: virtual time runs until it holds, or fails at the end.

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
      `sources.git` (`repo_name_problem`, `path_problem`, `ref_problem`: what git itself accepts,
      and nothing starting with `-`, which a git command would take for an option);
    - `dir:` and `file:` are relative paths that resolve (symlinks followed) inside the scenario
      file's folder; a `file:` must be UTF-8 text (it holds manifests), a repository file under
      `dir:` is carried as its bytes (a PNG is committed byte for byte: repositories are bytes,
      and Flux's source-controller packs whatever `.sourceignore` lets through). A `dir:` holds at
      most `MAX_DIR_FILES` files of at most `located.MAX_FILE_BYTES` each, `MAX_DIR_BYTES` in all.
      Inline `files:` are text (a YAML string), committed as UTF-8.

Callers: `scenario.loader` (files to models), the runner (models), the JSON schema export.
This module must never read a file outside the scenario's folder, nor run anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gitops_sim.model import duration, objects
from gitops_sim.scenario import located
from gitops_sim.scenario.located import LDict, LList, LoadError, Location
from gitops_sim.sources import git
from gitops_sim.timing import clock as clocks
from gitops_sim.workloads import images

API_VERSION = "gitops-sim/v1alpha1"

DEFAULT_HORIZON_MS = 365 * 24 * 3_600_000
"""How much virtual time a scenario may ask for (its advances and waits), unless told otherwise."""

_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
START_MIN_MS = 0  # 1970-01-01T00:00:00Z
START_MAX_MS = 221_845_392_000_000  # 9000-01-01T00:00:00Z
END_MS = 253_402_300_799_000  # 9999-12-31T23:59:59Z: the last time a timestamp can print
MAX_DIR_FILES = 10_000
MAX_DIR_BYTES = 64 << 20
"""A `dir:` with more files or bytes than these is refused (a scenario's repository is small)."""


@dataclass(frozen=True, slots=True)
class Manifest:
    obj: dict[str, Any]
    loc: Location


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
class Apply:
    manifests: tuple[Manifest, ...]


@dataclass(frozen=True, slots=True)
class Commit:
    repo: str
    message: str
    branch: str | None
    files: dict[str, str | bytes | None]
    author: tuple[str, str] | None
    tag: str | None = None  # tag the new commit (lightweight)


@dataclass(frozen=True, slots=True)
class Tag:
    repo: str
    name: str
    target: str | None  # a branch or a commit; None: the default branch's head
    message: str | None  # annotated when set


@dataclass(frozen=True, slots=True)
class PushArtifact:
    url: str  # oci://host/name
    tag: str
    files: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True, slots=True)
class PushImage:
    images: tuple[str, ...]  # host/name:tag


@dataclass(frozen=True, slots=True)
class PublishChart:
    url: str  # the chart repository's URL
    name: str
    version: str
    files: dict[str, str]  # empty: what `helm create` makes
    app_version: str | None = None


@dataclass(frozen=True, slots=True)
class PutObject:
    endpoint: str
    bucket: str
    objects: dict[str, str | None]  # key -> content; None deletes


@dataclass(frozen=True, slots=True)
class Fault:
    target: str  # a repository name, a registry host[/name], or a chart repository URL
    type: str  # see FAULT_TYPES
    upstream: str = "repo"  # "repo" | "registry" | "charts"


@dataclass(frozen=True, slots=True)
class Heal:
    target: str
    upstream: str = "repo"


@dataclass(frozen=True, slots=True)
class Drift:
    object: str
    manager: str
    set: dict[str, Any]
    unset: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Delete:
    object: str


@dataclass(frozen=True, slots=True)
class Reconcile:
    object: str


@dataclass(frozen=True, slots=True)
class Advance:
    ms: int


@dataclass(frozen=True, slots=True)
class Expectation:
    kind: str  # "object" | "absent" | "condition" | "event"
    object: str
    want: dict[str, Any]
    within_ms: int
    loc: Location
    within_loc: Location | None = None


@dataclass(frozen=True, slots=True)
class Expect:
    items: tuple[Expectation, ...]


Action = (
    Apply
    | Commit
    | Tag
    | PushArtifact
    | PushImage
    | PublishChart
    | PutObject
    | Fault
    | Heal
    | Drift
    | Delete
    | Reconcile
    | Advance
    | Expect
)


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


# -- parsing ---------------------------------------------------------------------------------


class _Ctx:
    """Where we are: the file (for relative paths) and the field path (for messages)."""

    def __init__(self, base: Path, file: str) -> None:
        self.base = base
        self.file = file

    def inside(self, value: Any, loc: Location, where: str) -> Path:
        """The path a `dir:` or `file:` names, refused unless it is relative and resolves
        (symlinks followed) inside the scenario file's folder."""
        text = _str(value, loc, where)
        if not text or "\0" in text or Path(text).is_absolute():
            raise _fail(loc, where, "expected a path relative to the scenario file's folder")
        root = self.base.resolve()
        try:
            target = (self.base / text).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise _fail(loc, where, f"cannot resolve {text!r}: {exc}") from exc
        if not target.is_relative_to(root):
            raise _fail(loc, where, f"{text!r} is outside the scenario file's folder")
        return target


def _fail(loc: Location, where: str, message: str) -> LoadError:
    return LoadError(loc, f"{where}: {message}")


def _child_loc(parent: Any, key: str | int) -> Location:
    if isinstance(parent, LDict) and isinstance(key, str):
        return parent.value_locs.get(key, parent.loc)
    if isinstance(parent, LList) and isinstance(key, int):
        return parent.item_locs[key]
    return Location("?", 1, 1)


def _mapping(
    value: Any, loc: Location, where: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> LDict:
    if not isinstance(value, LDict):
        raise _fail(loc, where, f"expected a mapping with {', '.join(allowed)}; got {_kind(value)}")
    for key in value:
        if key not in allowed:
            raise _fail(
                value.value_locs[key],
                f"{where}.{key}",
                f"unknown field; expected one of: {', '.join(allowed)}",
            )
    for key in required:
        if key not in value:
            raise _fail(value.loc, where, f"missing required field {key!r}")
    return value


def _str(value: Any, loc: Location, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _fail(loc, where, f"expected a string; got {_kind(value)}")
    return str(value)


def _kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def _duration(value: Any, loc: Location, where: str) -> int:
    try:
        ms = duration.parse(_str(value, loc, where))
    except duration.DurationError as exc:
        raise _fail(loc, where, str(exc)) from exc
    if ms < 0:
        raise _fail(loc, where, f"a duration here may not be negative; got {value!r}")
    return ms


def _text(value: Any, loc: Location, where: str) -> str:
    """A free-text field: a string (a number or a mapping is a mistake here)."""
    if not isinstance(value, str):
        raise _fail(loc, where, f"expected a string; got {_kind(value)}")
    return value


def _checked(problem: str | None, loc: Location, where: str) -> None:
    if problem is not None:
        raise _fail(loc, where, problem)


def _git_ref(value: Any, loc: Location, where: str) -> str:
    text = _str(value, loc, where)
    _checked(git.ref_problem(text), loc, where)
    return text


def _list(value: Any, loc: Location, where: str) -> LList:
    if not isinstance(value, LList):
        raise _fail(loc, where, f"expected a list; got {_kind(value)}")
    return value


def _start(value: Any, loc: Location) -> int:
    text = _str(value, loc, "start")
    if not _RFC3339.fullmatch(text):
        raise _fail(loc, "start", f"expected an RFC 3339 time such as 2025-01-01T00:00:00Z; got {text!r}")
    try:
        ms = duration.parse_rfc3339(text)
    except (duration.DurationError, OverflowError) as exc:
        raise _fail(loc, "start", str(exc)) from exc
    if not START_MIN_MS <= ms <= START_MAX_MS:
        raise _fail(
            loc, "start", f"expected a time from 1970-01-01T00:00:00Z to 9000-01-01T00:00:00Z; got {text!r}"
        )
    return ms


def _ref(value: Any, loc: Location, where: str) -> str:
    text = _str(value, loc, where)
    parts = text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise _fail(
            loc,
            where,
            f"expected Kind/namespace/name (or Kind/name for cluster-scoped objects); got {text!r}",
        )
    return text


def parse(data: Any, path: Path, *, horizon_ms: int = DEFAULT_HORIZON_MS) -> Scenario:
    """The scenario `data` (from `located.load`) describes; `horizon_ms` bounds the virtual time
    its steps ask for."""
    ctx = _Ctx(path.parent, str(path))
    top = _mapping(
        data,
        Location(str(path), 1, 1),
        "scenario",
        TOP_KEYS,
        required=("name",),
    )
    if "apiVersion" in top and top["apiVersion"] != API_VERSION:
        raise _fail(top.value_locs["apiVersion"], "apiVersion", f"expected {API_VERSION!r}")
    seed = top.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise _fail(_child_loc(top, "seed"), "seed", f"expected an integer; got {_kind(seed)}")
    start_ms = _start(top["start"], top.value_locs["start"]) if "start" in top else None
    name = _text(top["name"], top.value_locs["name"], "name")
    description = (
        _text(top["description"], top.value_locs["description"], "description")
        if top.get("description") is not None
        else ""
    )
    repos = _repos(top.get("repos"), _child_loc(top, "repos"), ctx) if "repos" in top else ()
    initial = _manifests(top["apply"], top.value_locs["apply"], "apply", ctx) if "apply" in top else ()
    steps_raw = top.get("steps", LList())
    if not isinstance(steps_raw, LList):
        raise _fail(_child_loc(top, "steps"), "steps", f"expected a list of steps; got {_kind(steps_raw)}")
    steps = tuple(_step(item, i, steps_raw, ctx) for i, item in enumerate(steps_raw))
    _within_horizon(steps, horizon_ms, start_ms if start_ms is not None else clocks.DEFAULT_EPOCH_MS)
    images = _images(top["images"], top.value_locs["images"], "images") if "images" in top else ()
    kubelet: dict[str, int] = {}
    if "kubelet" in top:
        spec = _mapping(top["kubelet"], top.value_locs["kubelet"], "kubelet", ("pull", "ready", "run"))
        kubelet = {k: _duration(v, spec.value_locs[k], f"kubelet.{k}") for k, v in spec.items()}
    return Scenario(
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
    )


def _within_horizon(steps: tuple[Step, ...], horizon_ms: int, start_ms: int) -> None:
    """Refuse the first `advance` or `within` that takes the run past the horizon, or past the
    last printable date."""
    limit = min(horizon_ms, END_MS - start_ms)
    total = 0
    for step in steps:
        spans: list[tuple[int, Location, str]] = []
        if isinstance(step.action, Advance):
            spans.append((step.action.ms, step.loc, f"steps[{step.index}].advance"))
        elif isinstance(step.action, Expect):
            spans.extend(
                (item.within_ms, item.within_loc or item.loc, f"steps[{step.index}].expect.within")
                for item in step.action.items
                if item.within_ms
            )
        for ms, loc, where in spans:
            total += ms
            if total > limit:
                if limit < horizon_ms:
                    reason = "past 9999-12-31T23:59:59Z, the last time a timestamp can show"
                else:
                    reason = f"beyond the horizon of {duration.format(horizon_ms)} (--horizon)"
                raise _fail(
                    loc, where, f"the scenario's virtual time would reach {duration.format(total)}, {reason}"
                )


def _images(value: Any, loc: Location, where: str) -> tuple[str, ...]:
    """One image reference or a list of them, each naming its registry host and a tag."""
    items = list(value) if isinstance(value, LList) else [value]
    out = []
    for i, item in enumerate(items):
        item_loc = _child_loc(value, i) if isinstance(value, LList) else loc
        item_where = f"{where}[{i}]" if isinstance(value, LList) else where
        text = _str(item, item_loc, item_where)
        name, _, tag = text.rpartition(":")
        host = name.split("/", 1)[0]
        if (
            "/" not in name
            or not tag
            or "/" in tag
            or not ("." in host or ":" in host or host == "localhost")
        ):
            raise _fail(
                item_loc,
                item_where,
                f"expected <registry host>/<name>:<tag>, e.g. ghcr.io/acme/app:1.0.0; got {text!r}",
            )
        out.append(text)
    return tuple(out)


def _repos(value: Any, loc: Location, ctx: _Ctx) -> tuple[Repo, ...]:
    if not isinstance(value, LDict):
        raise _fail(
            loc, "repos", f"expected a mapping of repository names to repositories; got {_kind(value)}"
        )
    out = []
    for name, spec in value.items():
        where = f"repos.{name}"
        spec_loc = value.value_locs[name]
        _checked(git.repo_name_problem(name), spec_loc, where)
        spec = _mapping(
            spec, spec_loc, where, ("url", "branch", "files", "dir", "message", "auth"), required=("url",)
        )
        auth = None
        if "auth" in spec:
            auth_spec = _mapping(
                spec["auth"],
                spec.value_locs["auth"],
                f"{where}.auth",
                ("username", "password", "bearerToken"),
            )
            auth = {k: _str(v, auth_spec.value_locs[k], f"{where}.auth.{k}") for k, v in auth_spec.items()}
            if not auth:
                raise _fail(
                    spec.value_locs["auth"], f"{where}.auth", "expected username and password, or bearerToken"
                )
        files: dict[str, str | bytes | None] = {}
        if "dir" in spec:
            files.update(_dir(spec["dir"], spec.value_locs["dir"], f"{where}.dir", ctx))
        if "files" in spec:
            files.update(_files(spec["files"], spec.value_locs["files"], f"{where}.files", allow_null=False))
        out.append(
            Repo(
                name=name,
                url=_str(spec["url"], spec.value_locs["url"], f"{where}.url"),
                branch=_git_ref(spec.get("branch", "main"), _child_loc(spec, "branch"), f"{where}.branch"),
                files={k: v for k, v in files.items() if v is not None},
                message=_text(
                    spec.get("message", "Initial commit"), _child_loc(spec, "message"), f"{where}.message"
                ),
                loc=spec_loc,
                auth=auth,
            )
        )
    return tuple(out)


def _dir(value: Any, loc: Location, where: str, ctx: _Ctx) -> dict[str, bytes]:
    """The bytes of the files under a `dir:` folder, by path relative to it; each must resolve
    inside the folder (a symlink out of it is refused) and be a valid repository path."""
    folder = ctx.inside(value, loc, where)
    if not folder.is_dir():
        raise _fail(loc, where, f"folder {folder} does not exist")
    out: dict[str, bytes] = {}
    size = 0
    for file in sorted(folder.rglob("*")):
        if len(out) >= MAX_DIR_FILES:
            raise _fail(loc, where, f"{folder} holds more than {MAX_DIR_FILES} files")
        rel = file.relative_to(folder).as_posix()
        try:
            resolved = file.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise _fail(loc, where, f"{rel!r} cannot be resolved: {exc}") from exc
        if not resolved.is_relative_to(folder):
            raise _fail(loc, where, f"{rel!r} leads outside {folder} (a symlink)")
        if not file.is_file():
            continue
        _checked(git.path_problem(rel), loc, f"{where}: {rel}")
        out[rel] = located.read_bytes(file, loc, where)
        size += len(out[rel])
        if size > MAX_DIR_BYTES:
            raise _fail(loc, where, f"{folder} holds more than {MAX_DIR_BYTES >> 20} MiB")
    return out


def _files(
    value: Any, loc: Location, where: str, *, allow_null: bool, repo_paths: bool = True
) -> dict[str, str | None]:
    """File paths to their text; `repo_paths`: the paths obey `git.path_problem` (else, for
    object keys, only relative and without '..')."""
    if not isinstance(value, LDict):
        raise _fail(loc, where, f"expected a mapping of file paths to their text; got {_kind(value)}")
    out: dict[str, str | None] = {}
    for rel, text in value.items():
        if repo_paths:
            _checked(git.path_problem(rel), value.value_locs[rel], f"{where}.{rel}")
        elif rel.startswith("/") or ".." in rel.split("/"):
            raise _fail(
                value.value_locs[rel], f"{where}.{rel}", "file paths must be relative to the repository root"
            )
        if text is None and allow_null:
            out[rel] = None
        elif isinstance(text, str):
            out[rel] = text
        else:
            raise _fail(
                value.value_locs[rel],
                f"{where}.{rel}",
                f"expected the file's text as a string{' (or null to delete it)' if allow_null else ''}; "
                f"got {_kind(text)}",
            )
    return out


def _manifests(value: Any, loc: Location, where: str, ctx: _Ctx) -> tuple[Manifest, ...]:
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    out: list[Manifest] = []
    for i, item in items:
        iloc = value.item_locs[i] if isinstance(value, LList) and i is not None else loc
        iwhere = f"{where}[{i}]" if i is not None else where
        if isinstance(item, LDict) and set(item) == {"file"}:
            floc = item.value_locs["file"]
            file = ctx.inside(item["file"], floc, f"{iwhere}.file")
            if not file.is_file():
                raise _fail(floc, f"{iwhere}.file", f"file {file} does not exist")
            text = located.read_text(file, floc, f"{iwhere}.file")
            out.extend(_documents(text, Location(str(file), 0, 1), str(file)))
        elif isinstance(item, str):
            out.extend(_documents(item, iloc, iwhere))
        elif isinstance(item, LDict):
            out.append(_check_manifest(located.plain(item), iloc, iwhere))
        else:
            raise _fail(
                iloc,
                iwhere,
                f"expected a manifest (YAML text or a mapping) or {{file: path}}; got {_kind(item)}",
            )
    return tuple(out)


def _documents(text: str, loc: Location, where: str) -> list[Manifest]:
    """The manifests in a YAML stream; `loc.line` is the line above the text's first line."""
    docs = located.load_all(text, loc.file, loc.line, f"{where}: invalid YAML in manifest")
    return [
        _check_manifest(located.plain(d), loc if loc.line else Location(loc.file, 1, 1), where) for d in docs
    ]


def _check_manifest(obj: Any, loc: Location, where: str) -> Manifest:
    if not isinstance(obj, dict):
        raise _fail(loc, where, f"a manifest must be a mapping; got {_kind(obj)}")
    for key in ("apiVersion", "kind"):
        if not obj.get(key):
            raise _fail(loc, where, f"manifest is missing {key!r}")
        if not isinstance(obj[key], str):
            raise _fail(loc, where, f"manifest {key} must be a string; got {_kind(obj[key])}")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise _fail(loc, where, "manifest is missing metadata.name")
    for key in ("name", "namespace"):
        if key in metadata and not isinstance(metadata[key], str):
            raise _fail(loc, where, f"manifest metadata.{key} must be a string; got {_kind(metadata[key])}")
    return Manifest(obj, loc)


TOP_KEYS = (
    "apiVersion",
    "name",
    "description",
    "seed",
    "start",
    "repos",
    "images",
    "kubelet",
    "apply",
    "steps",
)
"""The keys a scenario file may have at its top level."""

STEP_KEYS = (
    "apply",
    "commit",
    "tag",
    "push-artifact",
    "push-image",
    "publish-chart",
    "put-object",
    "fault",
    "heal",
    "drift",
    "delete",
    "reconcile",
    "advance",
    "expect",
)
FAULT_TYPES = {
    "repo": git.FAULTS,
    "registry": ("unreachable", "unavailable"),
    "charts": ("unreachable", "unavailable"),
    "bucket": ("unreachable", "unavailable"),
    "artifact": ("missing", "corrupted"),  # one-off: the source controller repairs it, no heal
    "image": images.FAULTS,
    "pods": ("evicted",),  # one-off: the workload's controller replaces the evicted Pods
}


def _step(item: Any, index: int, parent: LList, ctx: _Ctx) -> Step:
    loc = parent.item_locs[index]
    where = f"steps[{index}]"
    if not isinstance(item, LDict) or len(item) != 1:
        raise _fail(loc, where, f"each step is a mapping with exactly one of: {', '.join(STEP_KEYS)}")
    keyword = next(iter(item))
    if keyword not in STEP_KEYS:
        raise _fail(
            item.value_locs[keyword],
            f"{where}.{keyword}",
            f"unknown step; expected one of: {', '.join(STEP_KEYS)}",
        )
    value, vloc, vwhere = item[keyword], item.value_locs[keyword], f"{where}.{keyword}"
    action: Action
    if keyword == "apply":
        action = Apply(_manifests(value, vloc, vwhere, ctx))
    elif keyword == "commit":
        spec = _mapping(
            value,
            vloc,
            vwhere,
            ("repo", "message", "branch", "files", "delete", "author", "tag"),
            required=("repo",),
        )
        changes: dict[str, str | bytes | None] = {}
        if "files" in spec:
            changes.update(
                _files(spec["files"], spec.value_locs["files"], f"{vwhere}.files", allow_null=True)
            )
        deleted = (
            _list(spec["delete"], spec.value_locs["delete"], f"{vwhere}.delete")
            if "delete" in spec
            else LList()
        )
        for i, rel in enumerate(deleted):
            rel_where, rel_loc = f"{vwhere}.delete[{i}]", deleted.item_locs[i]
            text = _str(rel, rel_loc, rel_where)
            _checked(git.path_problem(text), rel_loc, rel_where)
            changes[text] = None
        author = None
        if "author" in spec:
            text = _str(spec["author"], spec.value_locs["author"], f"{vwhere}.author")
            name, _, email = text.partition("<")
            if not email.endswith(">"):
                raise _fail(spec.value_locs["author"], f"{vwhere}.author", "expected 'Name <email>'")
            author = (name.strip(), email[:-1])
        action = Commit(
            repo=_str(spec["repo"], spec.value_locs["repo"], f"{vwhere}.repo"),
            message=_text(spec.get("message", "Update"), _child_loc(spec, "message"), f"{vwhere}.message"),
            branch=_git_ref(spec["branch"], spec.value_locs["branch"], f"{vwhere}.branch")
            if "branch" in spec
            else None,
            files=changes,
            author=author,
            tag=_git_ref(spec["tag"], spec.value_locs["tag"], f"{vwhere}.tag") if "tag" in spec else None,
        )
    elif keyword == "tag":
        spec = _mapping(value, vloc, vwhere, ("repo", "name", "ref", "message"), required=("repo", "name"))
        action = Tag(
            repo=_str(spec["repo"], spec.value_locs["repo"], f"{vwhere}.repo"),
            name=_git_ref(spec["name"], spec.value_locs["name"], f"{vwhere}.name"),
            target=_git_ref(spec["ref"], spec.value_locs["ref"], f"{vwhere}.ref") if "ref" in spec else None,
            message=_text(spec["message"], spec.value_locs["message"], f"{vwhere}.message")
            if "message" in spec
            else None,
        )
    elif keyword == "push-artifact":
        spec = _mapping(
            value, vloc, vwhere, ("url", "tag", "files", "annotations"), required=("url", "tag", "files")
        )
        url = _str(spec["url"], spec.value_locs["url"], f"{vwhere}.url")
        if not url.startswith("oci://") or "/" not in url.removeprefix("oci://"):
            raise _fail(spec.value_locs["url"], f"{vwhere}.url", "expected oci://<host>/<name>")
        annotations = spec.get("annotations") or LDict()
        if not isinstance(annotations, LDict):
            raise _fail(_child_loc(spec, "annotations"), f"{vwhere}.annotations", "expected a mapping")
        files = _files(spec["files"], spec.value_locs["files"], f"{vwhere}.files", allow_null=False)
        action = PushArtifact(
            url=url,
            tag=_str(spec["tag"], spec.value_locs["tag"], f"{vwhere}.tag"),
            files={k: v for k, v in files.items() if v is not None},
            annotations={
                k: _str(v, annotations.value_locs[k], f"{vwhere}.annotations.{k}")
                for k, v in annotations.items()
            },
        )
    elif keyword == "push-image":
        action = PushImage(_images(value, vloc, vwhere))
    elif keyword == "publish-chart":
        spec = _mapping(
            value,
            vloc,
            vwhere,
            ("url", "name", "version", "files", "appVersion"),
            required=("url", "name", "version"),
        )
        files = (
            _files(spec["files"], spec.value_locs["files"], f"{vwhere}.files", allow_null=False)
            if "files" in spec
            else {}
        )
        action = PublishChart(
            url=_str(spec["url"], spec.value_locs["url"], f"{vwhere}.url"),
            name=_str(spec["name"], spec.value_locs["name"], f"{vwhere}.name"),
            version=_str(spec["version"], spec.value_locs["version"], f"{vwhere}.version"),
            files={k: v for k, v in files.items() if v is not None},
            app_version=_str(spec["appVersion"], spec.value_locs["appVersion"], f"{vwhere}.appVersion")
            if "appVersion" in spec
            else None,
        )
    elif keyword == "put-object":
        spec = _mapping(
            value, vloc, vwhere, ("endpoint", "bucket", "objects"), required=("endpoint", "bucket", "objects")
        )
        action = PutObject(
            endpoint=_str(spec["endpoint"], spec.value_locs["endpoint"], f"{vwhere}.endpoint"),
            bucket=_str(spec["bucket"], spec.value_locs["bucket"], f"{vwhere}.bucket"),
            objects=_files(
                spec["objects"],
                spec.value_locs["objects"],
                f"{vwhere}.objects",
                allow_null=True,
                repo_paths=False,
            ),
        )
    elif keyword in ("fault", "heal"):
        allowed = (*FAULT_TYPES, "type") if keyword == "fault" else tuple(FAULT_TYPES)
        spec = _mapping(value, vloc, vwhere, allowed, required=("type",) if keyword == "fault" else ())
        which = [k for k in FAULT_TYPES if k in spec]
        if len(which) != 1:
            raise _fail(
                vloc,
                vwhere,
                "name exactly one of `repo` (a repository), `registry` (host[/name]), "
                "`charts` (a URL), `bucket` (endpoint/bucket), `artifact` (a source object), "
                "`image` (a container image) or `pods` (a workload, Kind/namespace/name)",
            )
        target = _str(spec[which[0]], spec.value_locs[which[0]], f"{vwhere}.{which[0]}")
        if keyword == "heal":
            action = Heal(target, upstream=which[0])
        else:
            kind = _str(spec["type"], spec.value_locs["type"], f"{vwhere}.type")
            if kind not in FAULT_TYPES[which[0]]:
                raise _fail(
                    spec.value_locs["type"],
                    f"{vwhere}.type",
                    f"expected one of: {', '.join(FAULT_TYPES[which[0]])}",
                )
            action = Fault(target, kind, upstream=which[0])
    elif keyword == "drift":
        spec = _mapping(value, vloc, vwhere, ("object", "manager", "set", "unset"), required=("object",))
        sets = spec.get("set", LDict())
        if not isinstance(sets, LDict):
            raise _fail(
                _child_loc(spec, "set"), f"{vwhere}.set", "expected a mapping of field paths to values"
            )
        for key in sets:
            _field_path(key, sets.value_locs[key], f"{vwhere}.set")
        unset_raw = (
            _list(spec["unset"], spec.value_locs["unset"], f"{vwhere}.unset") if "unset" in spec else LList()
        )
        unset = tuple(
            _str(u, unset_raw.item_locs[i], f"{vwhere}.unset[{i}]") for i, u in enumerate(unset_raw)
        )
        for i, key in enumerate(unset):
            _field_path(key, unset_raw.item_locs[i], f"{vwhere}.unset[{i}]")
        if not sets and not unset:
            raise _fail(vloc, vwhere, "a drift needs `set` or `unset`")
        action = Drift(
            object=_ref(spec["object"], spec.value_locs["object"], f"{vwhere}.object"),
            manager=_str(
                spec.get("manager", "kubectl-edit"), _child_loc(spec, "manager"), f"{vwhere}.manager"
            ),
            set=located.plain(sets),
            unset=unset,
        )
    elif keyword in ("delete", "reconcile"):
        target = value["object"] if isinstance(value, LDict) and set(value) == {"object"} else value
        ref = _ref(target, vloc, vwhere)
        action = Delete(ref) if keyword == "delete" else Reconcile(ref)
    elif keyword == "advance":
        action = Advance(_duration(value, vloc, vwhere))
    else:
        action = Expect(_expectations(value, vloc, vwhere))
    return Step(index, keyword, action, loc)


def _field_path(text: str, loc: Location, where: str) -> None:
    try:
        objects.parse_path(text)
    except objects.PathError as exc:
        raise _fail(loc, where, str(exc)) from exc


EXPECT_KEYS = ("object", "absent", "condition", "event")


def _expectations(value: Any, loc: Location, where: str) -> tuple[Expectation, ...]:
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    out = []
    for i, item in items:
        iloc = value.item_locs[i] if isinstance(value, LList) and i is not None else loc
        iwhere = f"{where}[{i}]" if i is not None else where
        spec = _mapping(item, iloc, iwhere, ("object", "fields", "absent", "condition", "event", "within"))
        present = [k for k in EXPECT_KEYS if k in spec]
        if len(present) != 1 or ("fields" in spec and present != ["object"]):
            raise _fail(
                iloc,
                iwhere,
                "an expectation has exactly one of: object (with fields), absent, condition, event",
            )
        within = (
            _duration(spec["within"], spec.value_locs["within"], f"{iwhere}.within")
            if "within" in spec
            else 0
        )
        kind = present[0]
        if kind == "object":
            if "fields" not in spec or not isinstance(spec["fields"], LDict):
                raise _fail(
                    _child_loc(spec, "fields"),
                    f"{iwhere}.fields",
                    "expected `fields`: a mapping of field paths to expected values",
                )
            for key in spec["fields"]:
                _field_path(key, spec["fields"].value_locs[key], f"{iwhere}.fields")
            want = located.plain(spec["fields"])
            ref = _ref(spec["object"], spec.value_locs["object"], f"{iwhere}.object")
        elif kind == "absent":
            ref, want = _ref(spec["absent"], spec.value_locs["absent"], f"{iwhere}.absent"), {}
        else:
            allowed = (
                ("object", "type", "status", "reason", "message")
                if kind == "condition"
                else ("object", "type", "reason", "message")
            )
            sub = _mapping(
                spec[kind],
                spec.value_locs[kind],
                f"{iwhere}.{kind}",
                allowed,
                required=("object", "type") if kind == "condition" else ("object",),
            )
            ref = _ref(sub["object"], sub.value_locs["object"], f"{iwhere}.{kind}.object")
            want = {
                k: _str(_yaml_bool(v) if k == "status" else v, sub.value_locs[k], f"{iwhere}.{kind}.{k}")
                for k, v in sub.items()
                if k != "object"
            }
            if (
                kind == "condition"
                and "status" in want
                and want["status"] not in ("True", "False", "Unknown")
            ):
                raise _fail(
                    sub.value_locs["status"],
                    f"{iwhere}.condition.status",
                    f'expected "True", "False" or "Unknown" (quoted); got {want["status"]!r}',
                )
            if kind == "event" and "type" in want and want["type"] not in ("Normal", "Warning"):
                raise _fail(sub.value_locs["type"], f"{iwhere}.event.type", 'expected "Normal" or "Warning"')
        within_loc = spec.value_locs["within"] if "within" in spec else None
        out.append(Expectation(kind, ref, want, within, iloc, within_loc))
    return tuple(out)


def _yaml_bool(value: Any) -> Any:
    """`status: True` (unquoted) means the string "True", as a Kubernetes condition writes it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return value

"""The field parsers every part of the scenario language shares: strings, durations, references,
file maps, manifests and image references, each refused with `LoadError` naming file:line:col
and the field path (`steps[2].drift.set: expected a mapping of field paths to values`).

Callers: `scenario.schema` (the top level) and the step declarations in `scenario.steps`.
Like the schema, this module must never read a file outside the scenario's folder, never run
anything, and never import a runtime module (engine, controllers, cluster, storage).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gitops_sim.model import duration as durations
from gitops_sim.model import matching, objects
from gitops_sim.scenario import located
from gitops_sim.scenario.located import LDict, LList, LoadError, Location
from gitops_sim.sources import gitnames


@dataclass(frozen=True, slots=True)
class Manifest:
    obj: dict[str, Any]
    loc: Location
    """Where the object is written: its item in the scenario, or its document in a `file:`."""
    where: str = ""
    """The field of the scenario that holds it (`steps[3].apply[0]`)."""


class Context:
    """Where we are: the file (for relative paths) and the field path (for messages)."""

    def __init__(self, base: Path, file: str) -> None:
        self.base = base
        self.file = file

    def inside(self, value: Any, loc: Location, where: str) -> Path:
        """The path a `dir:` or `file:` names, refused unless it is relative and resolves
        (symlinks followed) inside the scenario file's folder."""
        text = string(value, loc, where)
        if not text or "\0" in text or Path(text).is_absolute():
            raise fail(loc, where, "expected a path relative to the scenario file's folder")
        root = self.base.resolve()
        try:
            target = (self.base / text).resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise fail(loc, where, f"cannot resolve {text!r}: {exc}") from exc
        if not target.is_relative_to(root):
            raise fail(loc, where, f"{text!r} is outside the scenario file's folder")
        return target


def fail(loc: Location, where: str, message: str) -> LoadError:
    return LoadError(loc, f"{where}: {message}")


def child_loc(parent: Any, key: str | int) -> Location:
    if isinstance(parent, LDict) and isinstance(key, str):
        return parent.value_locs.get(key, parent.loc)
    if isinstance(parent, LList) and isinstance(key, int):
        return parent.item_locs[key]
    return Location("?", 1, 1)


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """` did you mean 'x'?` for the known name nearest to a mistyped one, or "" when none is near."""
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.6)
    return f" did you mean {close[0]!r}?" if close else ""


def mapping(
    value: Any, loc: Location, where: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
) -> LDict:
    if not isinstance(value, LDict):
        raise fail(loc, where, f"expected a mapping with {', '.join(allowed)}; got {kind(value)}")
    for key in value:
        if key not in allowed:
            raise fail(
                value.value_locs[key],
                f"{where}.{key}",
                f"unknown field;{did_you_mean(str(key), allowed)} expected one of: {', '.join(allowed)}",
            )
    for key in required:
        if key not in value:
            raise fail(value.loc, where, f"missing required field {key!r}")
    return value


def string(value: Any, loc: Location, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(loc, where, f"expected a string; got {kind(value)}")
    return str(value)


def kind(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


def duration(value: Any, loc: Location, where: str) -> int:
    try:
        ms = durations.parse(string(value, loc, where))
    except durations.DurationError as exc:
        raise fail(loc, where, str(exc)) from exc
    if ms < 0:
        raise fail(loc, where, f"a duration here may not be negative; got {value!r}")
    return ms


def text(value: Any, loc: Location, where: str) -> str:
    """A free-text field: a string (a number or a mapping is a mistake here)."""
    if not isinstance(value, str):
        raise fail(loc, where, f"expected a string; got {kind(value)}")
    return value


def text_or_match(value: Any, loc: Location, where: str) -> str | matching.Match:
    """A string an expectation compares: a literal, or `{contains: …}`, `{regex: …}` (Go's
    syntax) or `{glob: …}` (`model.matching`)."""
    if isinstance(value, LDict):
        try:
            found = matching.parse(located.plain(value))
        except matching.MatchError as exc:
            raise fail(loc, where, str(exc)) from exc
        if found is None:
            raise fail(loc, where, "expected a string, or one of {contains: …}, {regex: …}, {glob: …}")
        return found
    return text(value, loc, where)


def checked(problem: str | None, loc: Location, where: str) -> None:
    if problem is not None:
        raise fail(loc, where, problem)


def git_ref(value: Any, loc: Location, where: str) -> str:
    ref_text = string(value, loc, where)
    checked(gitnames.ref_problem(ref_text), loc, where)
    return ref_text


def sequence(value: Any, loc: Location, where: str) -> LList:
    if not isinstance(value, LList):
        raise fail(loc, where, f"expected a list; got {kind(value)}")
    return value


def ref(value: Any, loc: Location, where: str) -> str:
    ref_text = string(value, loc, where)
    parts = ref_text.split("/")
    if len(parts) not in (2, 3) or not all(parts):
        raise fail(
            loc,
            where,
            f"expected Kind/namespace/name (or Kind/name for cluster-scoped objects); got {ref_text!r}",
        )
    return ref_text


def field_path(path: str, loc: Location, where: str) -> None:
    try:
        objects.parse_path(path)
    except objects.PathError as exc:
        raise fail(loc, where, str(exc)) from exc


def yaml_bool(value: Any) -> Any:
    """`status: True` (unquoted) means the string "True", as a Kubernetes condition writes it."""
    if isinstance(value, bool):
        return "True" if value else "False"
    return value


def images(value: Any, loc: Location, where: str) -> tuple[str, ...]:
    """One image reference or a list of them, each naming its registry host and a tag."""
    items = list(value) if isinstance(value, LList) else [value]
    out = []
    for i, item in enumerate(items):
        item_loc = child_loc(value, i) if isinstance(value, LList) else loc
        item_where = f"{where}[{i}]" if isinstance(value, LList) else where
        image = string(item, item_loc, item_where)
        name, _, tag = image.rpartition(":")
        host = name.split("/", 1)[0]
        if (
            "/" not in name
            or not tag
            or "/" in tag
            or not ("." in host or ":" in host or host == "localhost")
        ):
            raise fail(
                item_loc,
                item_where,
                f"expected <registry host>/<name>:<tag>, e.g. ghcr.io/acme/app:1.0.0; got {image!r}",
            )
        out.append(image)
    return tuple(out)


def files(
    value: Any, loc: Location, where: str, *, allow_null: bool, repo_paths: bool = True
) -> dict[str, str | None]:
    """File paths to their text; `repo_paths`: the paths obey `gitnames.path_problem` (else, for
    object keys, only relative and without '..')."""
    if not isinstance(value, LDict):
        raise fail(loc, where, f"expected a mapping of file paths to their text; got {kind(value)}")
    out: dict[str, str | None] = {}
    for rel, content in value.items():
        if repo_paths:
            checked(gitnames.path_problem(rel), value.value_locs[rel], f"{where}.{rel}")
        elif rel.startswith("/") or ".." in rel.split("/"):
            raise fail(
                value.value_locs[rel], f"{where}.{rel}", "file paths must be relative to the repository root"
            )
        if content is None and allow_null:
            out[rel] = None
        elif isinstance(content, str):
            out[rel] = content
        else:
            raise fail(
                value.value_locs[rel],
                f"{where}.{rel}",
                f"expected the file's text as a string{' (or null to delete it)' if allow_null else ''}; "
                f"got {kind(content)}",
            )
    return out


def manifests(value: Any, loc: Location, where: str, ctx: Context) -> tuple[Manifest, ...]:
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    out: list[Manifest] = []
    for i, item in items:
        iloc = value.item_locs[i] if isinstance(value, LList) and i is not None else loc
        iwhere = f"{where}[{i}]" if i is not None else where
        if isinstance(item, LDict) and set(item) == {"file"}:
            floc = item.value_locs["file"]
            file = ctx.inside(item["file"], floc, f"{iwhere}.file")
            if not file.is_file():
                raise fail(floc, f"{iwhere}.file", f"file {file} does not exist")
            content = located.read_text(file, floc, f"{iwhere}.file")
            out.extend(_documents(content, Location(str(file), 0, 1), str(file), iwhere))
        elif isinstance(item, str):
            out.extend(_documents(item, iloc, iwhere, iwhere))
        elif isinstance(item, LDict):
            out.append(_check_manifest(located.plain(item), iloc, iwhere, iwhere))
        else:
            raise fail(
                iloc,
                iwhere,
                f"expected a manifest (YAML text or a mapping) or {{file: path}}; got {kind(item)}",
            )
    return tuple(out)


def _documents(content: str, loc: Location, where: str, held_by: str) -> list[Manifest]:
    """The manifests in a YAML stream, held by the scenario's field `held_by`; `loc.line` is the line
    above the text's first line (0 for a whole file, whose documents are each at their own line)."""
    docs = located.load_all(content, loc.file, loc.line, f"{where}: invalid YAML in manifest")
    return [
        _check_manifest(
            located.plain(d), loc if loc.line else getattr(d, "loc", Location(loc.file, 1, 1)), where, held_by
        )
        for d in docs
    ]


def _check_manifest(obj: Any, loc: Location, where: str, held_by: str) -> Manifest:
    if not isinstance(obj, dict):
        raise fail(loc, where, f"a manifest must be a mapping; got {kind(obj)}")
    for key in ("apiVersion", "kind"):
        if not obj.get(key):
            raise fail(loc, where, f"manifest is missing {key!r}")
        if not isinstance(obj[key], str):
            raise fail(loc, where, f"manifest {key} must be a string; got {kind(obj[key])}")
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict) or not metadata.get("name"):
        raise fail(loc, where, "manifest is missing metadata.name")
    for key in ("name", "namespace"):
        if key in metadata and not isinstance(metadata[key], str):
            raise fail(loc, where, f"manifest metadata.{key} must be a string; got {kind(metadata[key])}")
    return Manifest(obj, loc, held_by)


MAX_DIR_FILES = 10_000
MAX_DIR_BYTES = 64 << 20
"""A `dir:` with more files or bytes than these is refused (a scenario's repository is small)."""


def read_folder(folder: Path, loc: Location, where: str, *, skip_git: bool = False) -> dict[str, bytes]:
    """The bytes of the files under `folder`, by path relative to it; each must resolve inside
    the folder (a symlink out of it is refused) and be a valid repository path. `skip_git`: a
    `.git` folder (a checkout's own) is left out rather than refused. Raises `LoadError`."""
    if not folder.is_dir():
        raise fail(loc, where, f"folder {folder} does not exist")
    folder = folder.resolve()
    out: dict[str, bytes] = {}
    size = 0
    for file in sorted(folder.rglob("*")):
        if skip_git and ".git" in file.relative_to(folder).parts:
            continue
        if len(out) >= MAX_DIR_FILES:
            raise fail(loc, where, f"{folder} holds more than {MAX_DIR_FILES} files")
        rel = file.relative_to(folder).as_posix()
        try:
            resolved = file.resolve()
        except (OSError, RuntimeError) as exc:  # a symlink loop
            raise fail(loc, where, f"{rel!r} cannot be resolved: {exc}") from exc
        if not resolved.is_relative_to(folder):
            raise fail(loc, where, f"{rel!r} leads outside {folder} (a symlink)")
        if not file.is_file():
            continue
        checked(gitnames.path_problem(rel), loc, f"{where}: {rel}")
        out[rel] = located.read_bytes(file, loc, where)
        size += len(out[rel])
        if size > MAX_DIR_BYTES:
            raise fail(loc, where, f"{folder} holds more than {MAX_DIR_BYTES >> 20} MiB")
    return out

"""source-watcher's artifact builder: copy operations from source trees into a generated artifact.

What it does, over trees held in memory (`Tree`: files by clean relative path, directories
implied or made), with source-watcher's `cp`-like semantics:
- `apply_copies(ops, sources, staging)` runs an OutputArtifact's copy operations in order. `from`
  is `@<alias>/<path-or-glob>`, `to` is `@artifact/<path>` (a trailing `/` means "into that
  directory"). A path without glob characters (`*?[]`) is one file or directory: a file goes to
  `to` (or into it, when `to` ends in `/` or names a directory already staged), a directory is
  copied as a subdirectory of `to` (`@src/dir/` makes `<to>/dir/...`; `@src/` copies the whole
  source into `to`). A glob is Go's `io/fs.Glob` (one level per segment: `dir/**` matches the
  entries of `dir`, whose contents are then copied with the `dir/` prefix stripped); each match,
  file or directory, is copied under `to`. `exclude` globs (doublestar) are matched against the
  source-relative path and against the path relative to the selection's non-glob prefix; a
  pattern without `/` also matches the file name at any depth.
- Strategies: `Overwrite` (default) writes over what is staged; `Merge` merges a YAML file into
  the staged file of that name (multi-document sources are merged into one mapping first, maps
  merged deeply, everything else replaced, as Helm merges values files; a file copied within a
  directory is never merged), or copies it when nothing is staged there; `Extract` unpacks
  `.tar.gz`/`.tgz` archives into `to` (with a glob, `**` spans directories and other files are
  skipped; a single file must be a tarball; a directory is refused).
- `content_hash(name, files)`: the staged tree's Adler-32 dirhash, source-watcher's artifact
  file name (`<hash>.tar.gz`).
- `requests(spec, sources)`: the artifacts to build; with `pathPattern`, one set per directory of
  the source the pattern matches, `{capture}` placeholders rendered (lower-cased in names and
  labels, as found in copy paths), with the validations and messages of source-watcher.

Errors are `BuildError` with source-watcher's messages (the controller prefixes them); those of
`requests` say whether they are terminal (the generator stalls).

Provenance: behaviour of fluxcd/source-watcher `internal/builder` (builder.go, merge.go,
extract.go, dirhash.go) and `internal/controller/artifactgenerator_pathpattern.go`, with Go's
`io/fs.Glob` and doublestar v4 (`model.globs`) and apimachinery's name and label validations;
our own code. Differences: paths that would leave the staging folder fail with an error of our
wording (Go's `os.Root` says "path escapes from parent" in its own frame); a merged file is
written as sigs.k8s.io/yaml writes it (`model.goyaml`), falling back to a plain YAML dump for
values go-yaml's writer would format differently (floats); file modes are not kept (artifacts
hold 0644 files).

Callers: the ArtifactGenerator controller. Pure functions; no filesystem access.
"""

from __future__ import annotations

import math
import posixpath
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml

from gitops_sim.model import archives, globs, goyaml, yamlsafe
from gitops_sim.model.fluxapi import sourcewatcher as api

GLOB_CHARS = "*?[]"
TARBALL_EXTENSIONS = (".tar.gz", ".tgz")


class BuildError(ValueError):
    """A copy operation, a hash or a path pattern failed; `terminal`: retrying cannot help."""

    def __init__(self, message: str, *, terminal: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.terminal = terminal


@dataclass(slots=True)
class Tree:
    """A tree of files (by clean relative path) and the directories that hold them."""

    files: dict[str, bytes] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=lambda: {".": set()})

    @classmethod
    def of(cls, files: Mapping[str, bytes]) -> Tree:
        tree = cls()
        for path in sorted(files):
            tree.write(path, files[path])
        return tree

    def is_dir(self, path: str) -> bool:
        return path in self.children

    def is_file(self, path: str) -> bool:
        return path in self.files

    def exists(self, path: str) -> bool:
        return path in self.children or path in self.files

    def list_dir(self, path: str) -> list[str]:
        return sorted(self.children.get(path, ()))

    def paths(self) -> list[str]:
        return [p for p in self.children if p != "."] + list(self.files)

    def mkdirs(self, path: str) -> None:
        """Go's `createDirRecursive`: every missing folder made; a file where one is needed on
        the way fails, the path itself being a file does not."""
        path = _inside(path, "mkdirat")
        if path == "." or path in self.files:
            return
        parent = posixpath.dirname(path) or "."
        if parent in self.files:
            raise BuildError(f"mkdirat {path}: not a directory")
        self.mkdirs(parent)
        self.children[parent].add(posixpath.basename(path))
        self.children.setdefault(path, set())

    def write(self, path: str, data: bytes) -> None:
        path = _inside(path, "openat")
        if path in self.children:
            raise BuildError(f"openat {path}: is a directory")
        parent = posixpath.dirname(path) or "."
        if parent in self.files:
            raise BuildError(f"openat {path}: not a directory")
        self.mkdirs(parent)
        self.children[parent].add(posixpath.basename(path))
        self.files[path] = data

    def walk(self, top: str) -> Iterator[tuple[str, bool]]:
        """`fs.WalkDir` below `top` (not `top` itself): (path, is_dir), names sorted, depth first."""
        for name in self.list_dir(top):
            path = name if top == "." else f"{top}/{name}"
            is_dir = path in self.children
            yield path, is_dir
            if is_dir:
                yield from self.walk(path)


def clean(path: str) -> str:
    """Go's `path.Clean`."""
    if not path:
        return "."
    cleaned = posixpath.normpath(path)
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def join(*parts: str) -> str:
    """Go's `filepath.Join`: empty parts dropped, the result cleaned ("" when all are empty)."""
    kept = [p for p in parts if p]
    return clean("/".join(kept)) if kept else ""


def _inside(path: str, op: str) -> str:
    cleaned = clean(path)
    if cleaned == ".." or cleaned.startswith(("../", "/")):
        raise BuildError(f"{op} {path}: path escapes from parent")
    return cleaned


def is_tarball(path: str) -> bool:
    return path.lower().endswith(TARBALL_EXTENSIONS)


# --- copy operations -------------------------------------------------------------------------


def apply_copies(ops: Sequence[api.CopyOperation], sources: Mapping[str, Tree], staging: Tree) -> None:
    """Run `ops` in order into `staging` (`failed to apply copy operations: ...` on error)."""
    for op in ops:
        try:
            _apply(op, sources, staging)
        except BuildError as exc:
            raise BuildError(
                f"failed to apply copy operations: failed to apply copy operation from '{op.from_}' "
                f"to '{op.to}': {exc.message}"
            ) from exc


def _apply(op: api.CopyOperation, sources: Mapping[str, Tree], staging: Tree) -> None:
    if not op.from_.startswith("@"):
        raise BuildError(f"invalid copy source '{op.from_}': source must start with '@'")
    alias, slash, pattern = op.from_[1:].partition("/")
    if not slash:
        raise BuildError(f"invalid copy source '{op.from_}': source format must be '@alias/pattern'")
    if not op.to.startswith("@artifact/"):
        raise BuildError(f"invalid copy destination '{op.to}': destination must start with '@artifact/'")
    dest = op.to.removeprefix("@artifact/")
    src = sources.get(alias)
    if src is None:
        raise BuildError(f"source alias '{alias}' not found")
    for exclude in op.exclude:
        try:
            globs.doublestar_match(exclude, ".")
        except globs.PatternError as exc:
            raise BuildError(f"invalid exclude pattern '{exclude}'") from exc
    if not any(c in pattern for c in GLOB_CHARS):
        _single(op, src, pattern, staging, dest, op.to.endswith("/"))
        return
    extract = op.strategy == "Extract"
    try:
        matches = globs.doublestar_glob(src, pattern) if extract else globs.glob(src, pattern)
    except globs.PatternError as exc:
        raise BuildError(f"invalid glob pattern '{pattern}': {exc}") from exc
    if not matches:
        raise BuildError(f"no files match pattern '{pattern}' in source '{alias}'")
    base = _selection_root(pattern)
    kept = [m for m in matches if m not in (".", "..") and not excluded(m, base, op.exclude)]
    if not kept:
        raise BuildError(f"all files matching pattern '{pattern}' in source '{alias}' were excluded")
    for found in kept:
        if extract:
            if not is_tarball(found):
                continue
            try:
                _extract(src, found, staging, dest)
            except BuildError as exc:
                raise BuildError(f"failed to extract tarball '{found}' to '{dest}': {exc.message}") from exc
        else:
            target = _glob_destination(pattern, found, dest)
            try:
                _copy(op, src, found, staging, target, base)
            except BuildError as exc:
                raise BuildError(f"failed to copy file '{found}' to '{target}': {exc.message}") from exc


def _single(op: api.CopyOperation, src: Tree, pattern: str, staging: Tree, dest: str, into: bool) -> None:
    """One file or directory, `cp`-like."""
    path = clean(pattern)
    if path == ".." or path.startswith(("../", "/")):
        raise BuildError(f"failed to stat source '{path}': statat {path}: path escapes from parent")
    if not src.exists(path):
        raise BuildError(f"source '{path}' does not exist")
    if src.is_dir(path):
        if op.strategy == "Extract":
            raise BuildError(f"extract strategy is not supported for directories, got '{path}'")
        _copy(op, src, path, staging, join(dest, posixpath.basename(path)), path)
        return
    if excluded(path, ".", op.exclude):
        return
    if op.strategy == "Extract":
        if not is_tarball(path):
            raise BuildError(f"extract strategy requires tarball file (.tar.gz or .tgz), got '{path}'")
        _extract(src, path, staging, dest)
        return
    into = into or bool(dest and staging.is_dir(clean(dest)))
    target = join(dest, posixpath.basename(path)) if into else dest
    _copy(op, src, path, staging, target, ".")


def _copy(op: api.CopyOperation, src: Tree, path: str, staging: Tree, dest: str, base: str) -> None:
    """`copyFileWithRoots`: a directory recursively (excludes applied), a file merged or copied."""
    if src.is_dir(path):
        staging.mkdirs(dest)
        skipped: list[str] = []
        for found, is_dir in src.walk(path):
            if any(found.startswith(s + "/") for s in skipped):
                continue
            if excluded(found, base, op.exclude):
                if is_dir:
                    skipped.append(found)
                continue
            target = join(dest, _relative(path, found))
            if is_dir:
                staging.mkdirs(target)
            else:
                staging.write(target, src.files[found])
        return
    if op.strategy == "Merge" and staging.exists(clean(dest)):
        _merge(src.files[path], staging, dest)
        return
    staging.write(dest, src.files[path])


def _relative(base: str, path: str) -> str:
    return path if base == "." else path[len(base) + 1 :]


def _glob_destination(pattern: str, match: str, dest: str) -> str:
    """`dir/**` strips the `dir/` prefix from its matches; other globs keep the whole path."""
    if pattern.endswith("/**"):
        prefix = pattern[: -len("/**")] + "/"
        if match.startswith(prefix):
            return join(dest, match[len(prefix) :])
    return join(dest, match)


def _selection_root(pattern: str) -> str:
    """The literal prefix of a glob, before its first segment with glob characters."""
    root: list[str] = []
    for part in clean(pattern).split("/"):
        if any(c in part for c in GLOB_CHARS):
            break
        root.append(part)
    return join(*root) or "."


def _matches_any(path: str, patterns: Sequence[str]) -> bool:
    name = posixpath.basename(path)
    return any(
        globs.doublestar_match(p, path) or ("/" not in p and globs.doublestar_match(p, name))
        for p in patterns
    )


def excluded(path: str, base: str, patterns: Sequence[str]) -> bool:
    """`shouldExcludePath`: `path` (source-relative) or its path below `base` matches an exclude."""
    if not patterns:
        return False
    if _matches_any(path, patterns):
        return True
    base, path = clean(base), clean(path)
    if base == ".":
        return False
    base_parts, parts = base.split("/"), path.split("/")
    if parts[: len(base_parts)] != base_parts or len(parts) == len(base_parts):
        return False
    return _matches_any("/".join(parts[len(base_parts) :]), patterns)


def _extract(src: Tree, path: str, staging: Tree, dest: str) -> None:
    target = join(dest) or "."
    staging.mkdirs(target)
    if path not in src.files:
        raise BuildError(f'failed to extract tarball "{path}" to "{target}": read {path}: is a directory')
    try:
        files = archives.unpack(src.files[path], links="refuse")
    except archives.ArchiveError as exc:
        raise BuildError(f'failed to extract tarball "{path}" to "{target}": {exc}') from exc
    for name in sorted(files):
        staging.write(join(target, name), files[name])


# --- Merge -----------------------------------------------------------------------------------


def _load_yaml(data: bytes) -> dict[str, Any]:
    """Every document of a YAML file merged into one mapping (`loadYAML`)."""
    try:
        documents = yamlsafe.load_all(data)
    except yaml.YAMLError as exc:
        raise BuildError(f"cannot unmarshal YAML document: error converting YAML to JSON: {exc}") from exc
    out: dict[str, Any] = {}
    for document in documents:
        if document is None:
            continue
        if not isinstance(document, dict):
            kind = "array" if isinstance(document, list) else yamlsafe.go_json_type(document)
            raise BuildError(
                "cannot unmarshal YAML document: error unmarshaling JSON: while decoding JSON: json: "
                f"cannot unmarshal {kind} into Go value of type map[string]interface {{}}"
            )
        out = merge_maps(out, _as_json(document))
    return out


def _as_json(value: Any) -> Any:
    """A value as sigs.k8s.io/yaml's JSON round trip leaves it: keys strings, integral floats ints."""
    if isinstance(value, dict):
        return {_key(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return value


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    return "null" if key is None else str(key)


def merge_maps(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """`mergeMap`: maps merged deeply, anything else (lists included) replaced by the overlay's."""
    out = dict(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge_maps(out[key], value)
        else:
            out[key] = value
    return out


def _merge(data: bytes, staging: Tree, dest: str) -> None:
    path = clean(dest)
    if staging.is_dir(path):
        raise BuildError(f"read {path}: is a directory")
    merged = merge_maps(_load_yaml(staging.files[path]), _load_yaml(data))
    try:
        text = goyaml.marshal(merged)
    except goyaml.Unsupported:
        text = yamlsafe.dump(_sorted(merged))
    staging.write(path, text.encode())


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


# --- the artifact's name in storage ----------------------------------------------------------


def content_hash(name: str, files: Mapping[str, bytes]) -> str:
    """source-watcher's `DirHash` of the staged files (named `<name>/<path>`): Adler-32 of the
    sorted `<adler32 hex>  <name>` lines, in decimal."""
    lines: list[str] = []
    for path in sorted(f"{name}/{p}" for p in files):
        if "\n" in path:
            raise BuildError("failed to hash staging dir: filenames with newlines are not supported")
        lines.append(f"{zlib.adler32(files[path[len(name) + 1 :]]):x}  {path}\n")
    return str(zlib.adler32("".join(lines).encode()))


# --- what to build: the artifacts, or one set per directory a path pattern matches -----------


@dataclass(frozen=True, slots=True)
class Request:
    """One artifact to build, its placeholders rendered, and the labels its captures give."""

    artifact: api.OutputArtifact
    labels: dict[str, str] = field(default_factory=dict)


_CAPTURE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
_LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")
_NAME_PART = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")


def subdomain_errors(name: str) -> list[str]:
    """apimachinery's `IsDNS1123Subdomain`."""
    out = ["must be no more than 253 characters"] if len(name) > 253 else []
    if not _SUBDOMAIN.match(name):
        out.append(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
            "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
            "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    return out


def _label_value_errors(value: str) -> list[str]:
    out = ["must be no more than 63 characters"] if len(value) > 63 else []
    if not _LABEL_VALUE.match(value):
        out.append(
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
            "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
            "'my_value',  or '12345', regex used for validation is "
            "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        )
    return out


def _label_key_errors(key: str) -> list[str]:
    out = ["name part must be no more than 63 characters"] if len(key) > 63 else []
    if not _NAME_PART.match(key):
        out.append(
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and "
            "end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex "
            "used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
        )
    return out


def requests(spec: api.ArtifactGeneratorSpec, sources: Mapping[str, Tree]) -> list[Request]:
    """The artifacts to build (`buildArtifactRequests`)."""
    if not spec.path_pattern:
        return [Request(a) for a in spec.artifacts]
    pattern = spec.path_pattern
    head, slash, rest = pattern.partition("/")
    if not slash or not head.startswith("@"):
        raise BuildError(f"invalid pathPattern format: {pattern}", terminal=True)
    alias = head[1:]
    tree = sources.get(alias)
    if tree is None:
        raise BuildError(
            f'pathPattern "{pattern}": source alias {alias} not found in local sources', terminal=True
        )
    names = _captures(pattern, rest)
    regex = re.compile(
        "".join(
            f"(?P<{part[1:-1]}>[^/]+)" if part.startswith("{") else re.escape(part)
            for part in re.split(r"(\{[A-Za-z_][A-Za-z0-9_]*\})", rest)
            if part
        )
        + r"\Z"
    )
    for name in names:
        if errors := _label_key_errors(name):
            raise BuildError(
                f'pathPattern "{pattern}": capture variable "{name}" is not a valid Kubernetes label '
                f"key: {'; '.join(errors)}",
                terminal=True,
            )
    out: list[Request] = []
    seen: dict[str, str] = {}
    for rel, is_dir in tree.walk("."):
        found = regex.match(rel) if is_dir else None
        if found is None:
            continue
        raw = {k: str(v) for k, v in found.groupdict().items()}
        lowered = {k: v.lower() for k, v in raw.items()}
        for key in sorted(lowered):
            if errors := _label_value_errors(lowered[key]):
                raise BuildError(
                    f'pathPattern "{pattern}": captured value "{lowered[key]}" for variable "{key}" is '
                    f"not a valid Kubernetes label value: {'; '.join(errors)}",
                    terminal=True,
                )
        for artifact in spec.artifacts:
            request = _render(pattern, rel, artifact, lowered, raw)
            name = request.artifact.name
            if errors := subdomain_errors(name):
                raise BuildError(
                    f'pathPattern "{pattern}": rendered artifact name "{name}" is not a valid Kubernetes '
                    f"object name: {'; '.join(errors)}",
                    terminal=True,
                )
            if name in seen:
                raise BuildError(
                    f'pathPattern "{pattern}": directories "{seen[name]}" and "{rel}" both resolve to '
                    f'artifact name "{name}"',
                    terminal=True,
                )
            seen[name] = rel
            out.append(request)
    return out


def _captures(pattern: str, rest: str) -> list[str]:
    """The capture names of a path pattern, checked as `validatePathPatternCaptures` does."""
    names: list[str] = []
    i = 0
    while i < len(rest):
        if rest[i] == "{":
            end = rest.find("}", i + 1)
            if end < 0:
                raise BuildError(
                    f'pathPattern "{pattern}": invalid capture starting at offset {i}: missing closing brace',
                    terminal=True,
                )
            name = rest[i + 1 : end]
            if not name:
                raise BuildError(f'pathPattern "{pattern}": empty capture variable', terminal=True)
            if not _CAPTURE_NAME.match(name):
                raise BuildError(
                    f'pathPattern "{pattern}": capture variable "{name}" must be a valid capture name '
                    "matching [A-Za-z_][A-Za-z0-9_]*",
                    terminal=True,
                )
            if name in names:
                raise BuildError(
                    f'pathPattern "{pattern}": duplicate capture variable "{name}"', terminal=True
                )
            names.append(name)
            i = end + 1
            continue
        if rest[i] == "}":
            raise BuildError(
                f'pathPattern "{pattern}": invalid capture ending at offset {i}: missing opening brace',
                terminal=True,
            )
        i += 1
    return names


def _render(
    pattern: str, rel: str, artifact: api.OutputArtifact, lowered: dict[str, str], raw: dict[str, str]
) -> Request:
    try:
        name = _template(artifact.name, lowered)
        copies = tuple(
            replace(op, from_=_template(op.from_, raw), to=_template(op.to, raw)) for op in artifact.copy
        )
    except BuildError as exc:
        raise BuildError(
            f'pathPattern "{pattern}": failed to render artifact {artifact.name} for match {rel}: '
            + exc.message,
            terminal=True,
        ) from exc
    return Request(replace(artifact, name=name, copy=copies), dict(lowered))


def _template(text: str, values: dict[str, str]) -> str:
    """`renderTemplateString`: each `{name}` replaced by its capture."""
    out: list[str] = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == "{":
            end = text.find("}", i + 1)
            if end < 0:
                raise BuildError(
                    f'invalid template "{text}": capture starting at offset {i} is missing closing brace'
                )
            name = text[i + 1 : end]
            if not name:
                raise BuildError(f'invalid template "{text}": empty capture variable')
            if not _CAPTURE_NAME.match(name):
                raise BuildError(
                    f'invalid template "{text}": capture variable "{name}" must be a valid capture name '
                    "matching [A-Za-z_][A-Za-z0-9_]*"
                )
            if name not in values:
                raise BuildError(
                    f'invalid template "{text}": capture variable "{name}" is not defined by pathPattern'
                )
            out.append(values[name])
            i = end + 1
        elif c == "}":
            raise BuildError(
                f'invalid template "{text}": capture ending at offset {i} is missing opening brace'
            )
        else:
            out.append(c)
            i += 1
    return "".join(out)

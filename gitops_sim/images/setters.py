"""The Setters update strategy: rewrite the image references marked in YAML files to the images
ImagePolicies chose, and say what changed.

What it does: `update(files, policies)` takes the files of a checkout (path relative to
`update.path` → bytes) and the policies' latest images, and returns the new bytes of every file
it changed with the changes it made (`Result`). A field is marked by a line comment:

    image: ghcr.io/org/app:1.0.0 # {"$imagepolicy": "flux-system:app"}

For a policy `<namespace>:<name>` there are four setters: `<namespace>:<name>` writes the whole
reference `name:tag` (`name:tag@digest` when the policy recorded a digest), and the suffixes
`:name`, `:tag` and `:digest` write that part alone (`:digest` writes "" when there is none). A
marker naming a setter that is not given is left alone, as is everything unmarked.
`read_folder` walks a folder the way the controller's reader does, for callers holding a checkout
on disk. `markers(files, policies)` lists every marker `update` would meet (and every comment
meant as one) with its outcome: changed, current, unknown-policy, not-a-marker (a comment
mentioning `$imagepolicy` that is no JSON object naming a setter, or that sits in a file the token
screen keeps out), left-alone (a marker on a block scalar, a key or an empty value) or
problem-file, for the explanation of an automation (`images.explain`).

Which files (filereader.go): every file under the folder, hidden ones and those in hidden
folders included, whose name ends `.yaml` or `.yml` (case matters) or is exactly
`Kustomization`, and that contains the token `"$imagepolicy"` (quotes included). A file that
passes the screen but does not read as kyaml reads it (a YAML error, a `---` separator line with
more than a comment after it, a document that is not a mapping, or whose `metadata` or
`metadata.annotations` is not a mapping, bytes that are not UTF-8) is a "problem file": skipped
and listed in `Result.problem_files`, never an error.

Which fields (filter.go, kyaml fieldmeta): scalars that are mapping values or sequence items,
anywhere in a document, never keys, each once (an alias is not visited again). The comment on
the scalar's line after it, stripped of its leading `#`s, must be a JSON object whose
`"$imagepolicy"` names a given setter, or whose `"$ref"` is
`#/definitions/io.k8s.cli.setters.<setter>` (the long form kyaml also reads).

The value written (kyaml `FormatNonStringStyle`, go-yaml v3's encoder): the scalar keeps its
quoting style, with two exceptions. A plain scalar whose new value would read as another type
under YAML 1.1 (a tag `1.0`, `10`, `yes`) becomes double-quoted, as does a plain one whose new
value go-yaml v3 reads as another type (an empty digest, a date). A plain original that was
itself null, a boolean or a number (`newTag: 5`) keeps that tag, which go-yaml then has to write:
`newTag: !!int v6` (`!!null` stays plain even for `1.0`). Every marked field of a changed file is
written this way, also those whose value did not change (Flux sets them all before writing).

The result (result.go): per file, per object (apiVersion, kind, namespace, name as the document
states them; all "" for a file such as a kustomization.yaml without metadata), the changes (old
value, new value, setter) in document order; `objects()` merges objects across files and
`changes()` is the flat list without repeats, both in file then document order. A value already
current is no change, and a file with no change is not in `files`.

Provenance: behaviour learned from fluxcd/image-automation-controller `internal/update`
(setters.go, filereader.go, filter.go, result.go and their testdata), kustomize's kyaml
(`kio/byteio_reader.go`: `\\r\\n` handling and `splitDocuments`; `fieldmeta`; `yaml`
`FormatNonStringStyle`, `IsValueNonString`) and go-yaml v3's encoder (when a scalar is quoted or
tagged). Our own code.

Callers: the ImageUpdateAutomation controller (it owns the checkout and writes `Result.files`
back), `images.explain` (`markers`), tests. Pure over values except `read_folder`; no cluster, no
clock, no controller imports.

Deliberate differences from Flux:
- Flux writes a changed file back through kyaml, which re-encodes the whole file: blank lines go
  (image-automation-controller#117, #844), a leading `---` goes (flux2#4435), `\\r\\n` becomes
  `\\n`, indentation becomes two spaces with one sequence style per document, flow collections
  and long scalars are re-laid, empty `metadata`/`annotations` maps go. We change only the bytes
  of the marked values and keep every other byte, so our diffs are the ones users hope for.
- Go's result maps have no order; ours follows the files (lexical, as the walk) and documents.
- A `$imagepolicy` that is not a string makes Flux panic; here it is no marker.
- Not modelled: a marker in a head comment (kyaml reads those too, rare for scalars), markers on
  block scalars (`|`, `>`) and on empty values (left alone), a single-document `kind: List`
  (kyaml unwraps its items and writes them back as separate documents), the tag kyaml writes on
  an explicitly tagged scalar (we keep the source's), the scalar's layout inside a flow
  collection (written as in block context; image references need no flow quoting).
"""

from __future__ import annotations

import enum
import json
import os
import pathlib
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import yaml

from gitops_sim.model import yamlsafe
from gitops_sim.model.fluxapi import image

TOKEN = '"$imagepolicy"'
"""The bytes a file must contain to be read at all (`fmt.Sprintf("%q", "$imagepolicy")`)."""

SHORTHAND = "$imagepolicy"
SETTER_REF_PREFIX = "#/definitions/io.k8s.cli.setters."


class UpdateError(Exception):
    """The update could not run: an invalid image reference in a policy, an unreadable folder."""


@dataclass(frozen=True, slots=True)
class PolicyName:
    """An ImagePolicy's namespace and name; its setter is `<namespace>:<name>`."""

    namespace: str
    name: str

    @property
    def setter(self) -> str:
        return f"{self.namespace}:{self.name}"


@dataclass(frozen=True, slots=True)
class ObjectId:
    """The object a change was made in, as its document states it (kyaml `ResourceIdentifier`)."""

    api_version: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """One field set to a new value (result.go `Change`)."""

    old_value: str
    new_value: str
    setter: str


@dataclass(frozen=True, slots=True)
class ObjectChanges:
    """The changes made in one object, in document order."""

    object: ObjectId
    changes: tuple[Change, ...]


@dataclass(frozen=True, slots=True)
class FileChanges:
    """The changes made in one file, per object."""

    path: str
    objects: tuple[ObjectChanges, ...]


@dataclass(frozen=True, slots=True)
class Result:
    """What an update did: the new bytes of the changed files and the changes, for the commit
    and its message template (`.Changed.FileChanges`, `.Changed.Objects`, `.Changed.Changes`)."""

    files: Mapping[str, bytes]
    """The new content of every changed file, by path; unchanged files are absent."""
    file_changes: tuple[FileChanges, ...]
    """Per changed file, per object, the changes."""
    problem_files: tuple[str, ...] = ()
    """Files that carried the token but could not be read as YAML resources, so were skipped."""

    def objects(self) -> tuple[ObjectChanges, ...]:
        """The changes per object, whichever file it is in (result.go `Objects`)."""
        merged: dict[ObjectId, list[Change]] = {}
        for file in self.file_changes:
            for entry in file.objects:
                merged.setdefault(entry.object, []).extend(entry.changes)
        return tuple(ObjectChanges(obj, tuple(changes)) for obj, changes in merged.items())

    def changes(self) -> tuple[Change, ...]:
        """Every distinct change (result.go `Changes`)."""
        seen: dict[Change, None] = {}
        for file in self.file_changes:
            for entry in file.objects:
                for change in entry.changes:
                    seen.setdefault(change, None)
        return tuple(seen)


# ---------------------------------------------------------------------------------------------
# Setters


def setters(policies: Mapping[PolicyName, image.ImageRef]) -> dict[str, str]:
    """The setter values of `policies` (setters.go): four per policy. Raises `UpdateError` with
    Flux's words for a latest image that is not a valid reference."""
    values: dict[str, str] = {}
    for policy, ref in policies.items():
        full = f"{ref.name}:{ref.tag}" + (f"@{ref.digest}" if ref.digest else "")
        if not _valid_reference(full):
            raise UpdateError(
                f"encountered invalid image ref {json.dumps(full)}: could not parse reference: {full}"
            )
        base = policy.setter
        values[base] = full
        values[base + ":tag"] = ref.tag
        values[base + ":name"] = ref.name
        values[base + ":digest"] = ref.digest or ""
    return values


_TAG_CHARS = re.compile(r"[A-Za-z0-9_.-]{1,128}\Z")
_REPO_CHARS = re.compile(r"[a-z0-9_./-]+\Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")


def _valid_reference(text: str) -> bool:
    """go-containerregistry `name.ParseReference` with weak validation, in outline: a tag, or a
    reference with one `@` and a sha256 digest; lower-case repository, optional registry."""
    base, at, digest = text.partition("@")
    if at and ("@" in digest or not _DIGEST.match(digest)):
        return False
    name, tag = base, ""
    head, colon, tail = base.rpartition(":")
    if colon and "/" not in tail:
        name, tag = head, tail
        if not _TAG_CHARS.match(tag):
            return False
    registry, slash, repo = name.partition("/")
    if not (slash and ("." in registry or ":" in registry or registry == "localhost")):
        repo = name
    return bool(repo) and bool(_REPO_CHARS.match(repo))


# ---------------------------------------------------------------------------------------------
# Files


def go_ext(path: str) -> str:
    """Go's `filepath.Ext`: from the last dot of the last path element (`.yaml` for `.yaml`)."""
    base = path.rsplit("/", 1)[-1]
    dot = base.rfind(".")
    return base[dot:] if dot >= 0 else ""


def is_candidate(path: str) -> bool:
    """Whether the reader looks inside the file at `path` at all, by its name."""
    return go_ext(path) in (".yaml", ".yml") or path.rsplit("/", 1)[-1] == "Kustomization"


def read_folder(root: pathlib.Path) -> dict[str, bytes]:
    """The files under `root` that `update` would read, by path relative to `root` with `/`
    separators (the file's own name when `root` is a file), in the walk's lexical order.

    As filereader.go walks: symlinks are not descended into; a symlink to a file is read, unless
    it leads out of `root` (our bound: Flux would read, and write back through, it), and a
    dangling one or one to a folder is skipped. `root` itself is resolved first, as the
    controller joins it to the checkout securely. An unreadable folder or file is an
    `UpdateError` in Flux's words."""
    top = pathlib.Path(os.path.realpath(root))
    if top.is_file():
        data = _read(top, top.parent)
        return {top.name: data} if data is not None else {}
    try:
        found = list(_walk(top, ""))
    except OSError as exc:
        raise UpdateError(f"walking path for files: {exc}") from exc
    files: dict[str, bytes] = {}
    for rel, path in found:
        data = _read(path, top)
        if data is not None:
            files[rel] = data
    return files


def _walk(folder: pathlib.Path, prefix: str) -> Iterator[tuple[str, pathlib.Path]]:
    for name in sorted(os.listdir(folder)):
        path = folder / name
        rel = prefix + name
        if path.is_dir() and not path.is_symlink():
            yield from _walk(path, rel + "/")
        elif is_candidate(rel):
            yield rel, path


def _read(path: pathlib.Path, top: pathlib.Path) -> bytes | None:
    if path.is_symlink():
        target = pathlib.Path(os.path.realpath(path))
        if not target.is_file() or not target.is_relative_to(top):
            return None
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UpdateError(f"reading YAML file: {exc}") from exc
    return data if TOKEN.encode() in data else None


# ---------------------------------------------------------------------------------------------
# The update


def update(files: Mapping[str, bytes], policies: Mapping[PolicyName, image.ImageRef]) -> Result:
    """Set every marked field of `files` to its setter's value (see the module docstring)."""
    values = setters(policies)
    changed: dict[str, bytes] = {}
    report: list[FileChanges] = []
    problems: list[str] = []
    for path in sorted(files):
        data = files[path]
        if not is_candidate(path) or TOKEN.encode() not in data:
            continue
        try:
            new, objects = _update_file(data, values)
        except _Problem:
            problems.append(path)
            continue
        if objects:
            changed[path] = new
            report.append(FileChanges(path, objects))
    return Result(changed, tuple(report), tuple(problems))


class _Problem(Exception):
    """The file does not read as kyaml reads it: skip it."""


@dataclass(frozen=True, slots=True)
class _Field:
    """One marked scalar: where its text is, what it holds, and how it is written."""

    start: int
    end: int
    style: Literal["", "'", '"', "|", ">"]
    tag: str
    old: str
    setter: str


_SEPARATOR = re.compile(r"\n---.*\n")


def _update_file(data: bytes, values: Mapping[str, str]) -> tuple[bytes, tuple[ObjectChanges, ...]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Problem("not UTF-8") from exc
    for separator in _SEPARATOR.finditer(text.replace("\r\n", "\n")):
        after = separator[0][4:].strip()
        if after and not after.startswith("#"):
            raise _Problem(f"invalid document separator: {separator[0].strip()}")  # as kyaml says
    try:
        documents = yamlsafe.compose_all(text)
        tokens = {
            token.end_mark.index: token
            for token in yaml.scan(text, Loader=yaml.SafeLoader)
            if isinstance(token, yaml.ScalarToken)
        }
    except yaml.YAMLError as exc:
        raise _Problem(_yaml_error(exc)) from exc
    per_object: dict[ObjectId, list[Change]] = {}
    fields: list[_Field] = []
    for root in documents:
        oid = _object_id(root)
        if oid is None:
            continue
        for field in _marked(root, text, tokens, values):
            fields.append(field)
            new = values[field.setter]
            if new != field.old:
                per_object.setdefault(oid, []).append(Change(field.old, new, field.setter))
    if not per_object:
        return data, ()
    out: list[str] = []
    at = 0
    for field in sorted(fields, key=lambda f: f.start):
        out += [text[at : field.start], _render(field, values[field.setter])]
        at = field.end
    out.append(text[at:])
    objects = tuple(ObjectChanges(oid, tuple(changes)) for oid, changes in per_object.items())
    return "".join(out).encode("utf-8"), objects


def _object_id(root: yaml.Node) -> ObjectId | None:
    """The document's identity; None for an empty document; `_Problem` for one kyaml refuses."""
    if isinstance(root, yaml.ScalarNode) and root.tag == yamlsafe.NULL:
        return None
    if not isinstance(root, yaml.MappingNode):
        raise _Problem("a document is not a mapping")  # kyaml cannot annotate it
    top = _fields(root)
    meta = top.get("metadata")
    if meta is not None and not _is_null(meta):
        if not isinstance(meta, yaml.MappingNode):
            raise _Problem("metadata is not a mapping")
        inner = _fields(meta)
        annotations = inner.get("annotations")
        if (
            annotations is not None
            and not _is_null(annotations)
            and not isinstance(annotations, yaml.MappingNode)
        ):
            raise _Problem("metadata.annotations is not a mapping")
    else:
        inner = {}
    return ObjectId(
        api_version=_text(top.get("apiVersion")),
        kind=_text(top.get("kind")),
        namespace=_text(inner.get("namespace")),
        name=_text(inner.get("name")),
    )


def _fields(node: yaml.MappingNode) -> dict[str, yaml.Node]:
    return {key.value: value for key, value in node.value if isinstance(key, yaml.ScalarNode)}


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == yamlsafe.NULL


def _text(node: yaml.Node | None) -> str:
    """A metadata field as kyaml's `GetMeta` decodes it into a Go string."""
    if node is None or _is_null(node):
        return ""
    if not isinstance(node, yaml.ScalarNode):
        # GetMeta fails on it, and kyaml's reader with it
        raise _Problem("apiVersion, kind, metadata.name or metadata.namespace is not a string")
    return str(node.value)


def _marked(
    root: yaml.Node, text: str, tokens: Mapping[int, yaml.ScalarToken], values: Mapping[str, str]
) -> Iterator[_Field]:
    """The document's marked scalars naming a known setter, in document order."""
    for node in _value_scalars(root):
        token = tokens.get(node.end_mark.index)
        if token is None or token.style in ("|", ">"):
            continue
        setter = _marker(_line_comment(text, node.end_mark.index), values)
        if setter is None:
            continue
        style: Literal["", "'", '"'] = token.style or ""
        properties = text[node.start_mark.index : token.start_mark.index]
        tag = "!" if "!" in properties else (_resolve_v3(node.value) if not style else yamlsafe.STR)
        yield _Field(token.start_mark.index, token.end_mark.index, style, tag, node.value, setter)


def _value_scalars(root: yaml.Node) -> Iterator[yaml.ScalarNode]:
    """The scalars the filter visits, in document order: mapping values and sequence items, never
    keys nor the document itself, each once."""
    seen: set[int] = set()
    stack: list[yaml.Node] = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue  # an alias: go-yaml keeps it an alias node, which the filter never visits
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            stack.extend(value for _, value in reversed(node.value))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(reversed(node.value))
        elif isinstance(node, yaml.ScalarNode) and node is not root:
            yield node


def _line_comment(text: str, end: int) -> str:
    """The comment following a scalar on its line, or ""."""
    at = end
    while at < len(text) and text[at] in " \t":
        at += 1
    if at >= len(text) or text[at] != "#":
        return ""
    stop = at
    while stop < len(text) and text[stop] not in "\r\n":
        stop += 1
    return text[at:stop]


def _marker(comment: str, values: Mapping[str, str]) -> str | None:
    """The setter a comment names, if it is a marker for one of `values` (kyaml fieldmeta)."""
    if not comment:
        return None
    try:
        parsed = json.loads(comment.lstrip("#"))
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    name = parsed.get(SHORTHAND)
    if isinstance(name, str) and name in values:
        return name
    ref = parsed.get("$ref")
    if isinstance(ref, str) and ref.startswith(SETTER_REF_PREFIX) and ref[len(SETTER_REF_PREFIX) :] in values:
        return ref[len(SETTER_REF_PREFIX) :]
    return None


def _yaml_error(exc: yaml.YAMLError) -> str:
    """A YAML error in one line: what is wrong, and where."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem:
        mark = exc.problem_mark
        return f"{exc.problem} (line {mark.line + 1})" if mark is not None else exc.problem
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# ---------------------------------------------------------------------------------------------
# The markers, for an explanation


class Outcome(enum.StrEnum):
    """What `update` does with a marker, or why a comment is none."""

    CHANGED = "changed"  # the field is set to a new value
    CURRENT = "current"  # the field already holds the setter's value
    UNKNOWN_POLICY = "unknown-policy"  # the setter names no given policy: left alone
    NOT_A_MARKER = "not-a-marker"  # a comment mentioning $imagepolicy that kyaml cannot read as one
    LEFT_ALONE = "left-alone"  # a marker, but not on a field the filter sets (a block scalar, a key)
    PROBLEM_FILE = "problem-file"  # the file does not read as YAML resources: skipped whole


@dataclass(frozen=True, slots=True)
class Marker:
    """One `$imagepolicy` marker (or comment meant as one) and its outcome."""

    path: str
    line: int
    """1-based line of the comment."""
    setter: str
    """The setter the comment names (`ns:name`, `ns:name:tag`, ...), "" when it names none."""
    value: str
    """The field's current value ("" when there is no field)."""
    outcome: Outcome
    new_value: str | None = None
    """The value `update` writes, for `Outcome.CHANGED`."""
    detail: str = ""
    """Why, in words, for every outcome but changed and current."""


SETTER_PARTS = ("", "name", "tag", "digest")
"""The suffixes a setter may carry after `<namespace>:<name>` ("" for the whole reference)."""


def split_setter(setter: str) -> tuple[PolicyName, str] | None:
    """The policy a setter text names and its suffix (`ns:app:tag` → (ns/app, "tag")), or None
    when it has not the shape `<namespace>:<name>[:<part>]` (namespaces and names hold no `:`)."""
    parts = setter.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        return None
    return PolicyName(parts[0], parts[1]), parts[2] if len(parts) == 3 else ""


def markers(files: Mapping[str, bytes], policies: Mapping[PolicyName, image.ImageRef]) -> tuple[Marker, ...]:
    """Every marker in the files `update` reads, with what `update` does with it, in file and
    line order; raises `UpdateError` as `update` does.

    The files are screened as `update` screens them. A problem file gives one `PROBLEM_FILE`
    marker per line holding the token, its detail saying why the file does not read. A file with
    a candidate name that fails the token screen but mentions `$imagepolicy` (a marker written
    with single quotes or none) gives `NOT_A_MARKER` for each such comment: Flux never opens it.
    A comment is a marker when it mentions `$imagepolicy` (or the long `$ref` form)."""
    values = setters(policies)
    found: list[Marker] = []
    for path in sorted(files):
        data = files[path]
        if not is_candidate(path):
            continue
        if TOKEN.encode() not in data:
            found += _unread(path, data)
            continue
        try:
            _update_file(data, values)  # the very screen `update` applies
        except _Problem as exc:
            found += _problem(path, data, str(exc))
            continue
        found += _scan(path, data.decode("utf-8"), values, policies)
    return tuple(found)


_BLOCK_HEADER = re.compile(r"[|>][0-9+-]*[ \t]*")
_LOOSE_SETTER = re.compile(r"""\$imagepolicy['"]?\s*:\s*['"]?([^'"\s}]+)""")


def _line_of(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _guess(comment: str) -> str:
    """The setter a malformed marker seems to name, or ""."""
    found = _LOOSE_SETTER.search(comment)
    return found[1] if found else ""


def _unread(path: str, data: bytes) -> list[Marker]:
    text = data.decode("utf-8", errors="replace")
    if SHORTHAND not in text:
        return []
    detail = f"the file does not contain {TOKEN} (double quotes), so Flux does not read it"
    return [
        Marker(path, _line_of(text, at), _guess(comment), "", Outcome.NOT_A_MARKER, detail=detail)
        for at, comment in _comments(text, ())
        if SHORTHAND in comment
    ]


def _comments(text: str, inside: Sequence[tuple[int, int]]) -> Iterator[tuple[int, str]]:
    """Each comment mentioning `$imagepolicy` or the long form, with where it starts: from the
    first `#` of its line that opens a comment (at the line's start or after a blank) and is not
    inside one of the `inside` spans (the quoted and block scalars), to the line's end."""
    offset = 0
    for line in text.splitlines(keepends=True):
        if SHORTHAND in line or SETTER_REF_PREFIX in line:
            for column, char in enumerate(line):
                at = offset + column
                if char != "#" or (column and line[column - 1] not in " \t"):
                    continue
                if any(start <= at < end for start, end in inside):
                    continue
                comment = line[column:].rstrip("\r\n")
                if SHORTHAND in comment or SETTER_REF_PREFIX in comment:
                    yield at, comment
                break
        offset += len(line)


def _problem(path: str, data: bytes, why: str) -> list[Marker]:
    text = data.decode("utf-8", errors="replace")
    detail = f"the file is skipped: {why}"
    out: list[Marker] = []
    for number, line in enumerate(text.split("\n"), 1):
        if TOKEN in line:
            out.append(Marker(path, number, _guess(line), "", Outcome.PROBLEM_FILE, detail=detail))
    return out


def _scan(
    path: str, text: str, values: Mapping[str, str], policies: Mapping[PolicyName, image.ImageRef]
) -> list[Marker]:
    """The markers of a file `update` reads (it parsed, so neither step raises here)."""
    scalars = [t for t in yaml.scan(text, Loader=yaml.SafeLoader) if isinstance(t, yaml.ScalarToken)]
    tokens = {t.end_mark.index: t for t in scalars}
    inside: list[tuple[int, int]] = []
    attached: dict[int, tuple[yaml.ScalarNode, yaml.ScalarToken]] = {}
    for token in scalars:
        start, end = token.start_mark.index, token.end_mark.index
        if token.style in ("|", ">"):
            header = _BLOCK_HEADER.match(text, start)
            at = header.end() if header else start
            if text.startswith("#", at):
                attached[at] = (yaml.ScalarNode(yamlsafe.STR, token.value), token)
            newline = text.find("\n", start)  # its content starts on the next line
            start = newline if newline >= 0 else end
        inside.append((start, end))
    for root in yamlsafe.compose_all(text):
        if _object_id(root) is None:
            continue
        for node in _value_scalars(root):
            found = tokens.get(node.end_mark.index)
            at = _comment_at(text, node.end_mark.index)
            if found is not None and found.style not in ("|", ">") and at is not None:
                attached[at] = (node, found)
    return [
        _classify(path, _line_of(text, at), comment, attached.get(at), values, policies)
        for at, comment in _comments(text, inside)
    ]


def _comment_at(text: str, end: int) -> int | None:
    """Where the comment following a scalar on its line starts (as `_line_comment` reads it)."""
    at = end
    while at < len(text) and text[at] in " \t":
        at += 1
    return at if at < len(text) and text[at] == "#" else None


def _classify(
    path: str,
    line: int,
    comment: str,
    field: tuple[yaml.ScalarNode, yaml.ScalarToken] | None,
    values: Mapping[str, str],
    policies: Mapping[PolicyName, image.ImageRef],
) -> Marker:
    value = field[0].value if field is not None else ""
    try:
        parsed = json.loads(comment.lstrip("#"))
    except ValueError as exc:
        hint = "; JSON wants double quotes" if "'" in comment else ""
        why = f"not valid JSON ({getattr(exc, 'msg', str(exc))}){hint}"
        return Marker(path, line, _guess(comment), value, Outcome.NOT_A_MARKER, detail=why)
    named = _named(parsed)
    if named is None:
        why = 'not a JSON object with a string "$imagepolicy"'
        return Marker(path, line, "", value, Outcome.NOT_A_MARKER, detail=why)
    if field is None:
        why = "not after a scalar value on its line (a key, an empty value, a collection or a comment line)"
        return Marker(path, line, named, "", Outcome.LEFT_ALONE, detail=why)
    node, token = field
    if token.style in ("|", ">"):
        why = "on a block scalar (| or >), which Flux does not set"
        return Marker(path, line, named, value, Outcome.LEFT_ALONE, detail=why)
    setter = _marker(comment, values)
    if setter is None:
        return Marker(path, line, named, value, Outcome.UNKNOWN_POLICY, detail=_unknown(named, policies))
    if values[setter] == node.value:
        return Marker(path, line, setter, value, Outcome.CURRENT)
    return Marker(path, line, setter, value, Outcome.CHANGED, new_value=values[setter])


def _named(parsed: object) -> str | None:
    """The setter a parsed marker comment names, whether or not it is given."""
    if not isinstance(parsed, dict):
        return None
    name = parsed.get(SHORTHAND)
    if isinstance(name, str):
        return name
    ref = parsed.get("$ref")
    if isinstance(ref, str) and ref.startswith(SETTER_REF_PREFIX):
        return ref[len(SETTER_REF_PREFIX) :]
    return None


def _unknown(setter: str, policies: Mapping[PolicyName, image.ImageRef]) -> str:
    """Why a setter names no given policy."""
    split = split_setter(setter)
    if split is None:
        return f'"{setter}" is not a setter: write <namespace>:<name>, optionally with :tag, :name or :digest'
    policy, part = split
    if part not in SETTER_PARTS:
        return f'":{part}" is not a setter suffix: use :tag, :name or :digest'
    namespaces = sorted({p.namespace for p in policies})
    if namespaces and policy.namespace not in namespaces:
        return (
            f'namespace "{policy.namespace}" differs from the policies\' ({", ".join(namespaces)}): '
            "a marker names the policy's namespace"
        )
    return f"no policy {policy.setter} among the {len(policies)} given"


# ---------------------------------------------------------------------------------------------
# Writing a value as kyaml and go-yaml v3 would


# YAML 1.1 words go-yaml v3 reads as strings
_V2_ONLY_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF")
)


def _resolve_v3(plain: str) -> str:
    """The tag go-yaml v3 gives a plain scalar."""
    if plain in _V2_ONLY_BOOLS:
        return yamlsafe.STR
    return yamlsafe.resolve(plain)[0]


def _non_string_v11(value: str) -> bool:
    """kyaml `IsValueNonString`: whether go-yaml v2 reads `value`, as a document, as no string."""
    if not value or "\n" in value:
        return False
    try:
        loaded = yamlsafe.load(value)
    except (yaml.YAMLError, ValueError):
        return False
    return not isinstance(loaded, str)


def _render(field: _Field, value: str) -> str:
    """The text of `field` holding `value` (kyaml `set` + `FormatNonStringStyle`, go-yaml v3's
    encoder choosing quotes and tags)."""
    style, tag = field.style, field.tag
    if _non_string_v11(value):
        if tag == yamlsafe.NULL:
            style = ""
        else:
            style = style or '"'
            tag = yamlsafe.STR if tag != "!" else tag
    prefix = ""
    if tag not in ("!", yamlsafe.STR) and not style and _resolve_v3(value) != tag:
        prefix = "!!" + tag.rsplit(":", 1)[-1] + " "
    elif tag == yamlsafe.STR and not style and _resolve_v3(value) != yamlsafe.STR:
        style = '"'
    return prefix + _emit(value, style or None)


def _emit(value: str, style: str | None) -> str:
    """libyaml's emitter (go-yaml v3's is its port) writing `value` as a block mapping value,
    unwrapped: plain falls back to single quotes where plain cannot hold the value."""
    events = [
        yaml.StreamStartEvent(),
        yaml.DocumentStartEvent(explicit=False),
        yaml.MappingStartEvent(None, None, True, flow_style=False),
        yaml.ScalarEvent(None, None, (True, True), "k"),
        yaml.ScalarEvent(None, None, (True, True), value, style=style),
        yaml.MappingEndEvent(),
        yaml.DocumentEndEvent(explicit=False),
        yaml.StreamEndEvent(),
    ]
    out = yaml.emit(events, width=1 << 30, allow_unicode=True)
    return str(out)[len("k:") :].removeprefix(" ").removesuffix("\n")

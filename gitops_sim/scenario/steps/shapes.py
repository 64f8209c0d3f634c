"""JSON Schema (draft 2020-12) fragments for the values of the scenario language.

Each step declaration describes its value next to its parser (`registry.Declaration(...,
value_schema=...)`) with the helpers here; `scenario.language_schema` assembles them into the
schema editors read (`gitops-sim schema`). A helper mirrors one parser of `steps.fields`, usually
of the same name, and says what that parser accepts as closely as JSON Schema can:

- `text` (`fields.text`): a string; `string` (`fields.string`): a string, or a number read as its
  text (YAML's `tag: 1.0`); `duration`, `time`, `ref`, `git_ref`, `image`: strings with the
  pattern their parser checks;
- `text_or_match` (`fields.text_or_match`): a literal, or `{contains|regex|glob: text}`;
- `mapping`: a closed object (`fields.mapping` refuses unknown keys), `map_of`: free keys;
- `manifests` (`fields.manifests`), `files` (`fields.files`), `images` (`fields.images`);
- `defining` and `use`: what several places of one fragment share, written once under `$defs`.

Every closed mapping here must name exactly the keys its parser takes, and the smallest value
it describes (from its `examples` where a bare string would not do) must load: the tests walk the
assembled schema and check both against the loader (`tests/scenario/test_language_schema.py`).

What JSON Schema cannot say (a regex that must compile, a file that must exist, a duration within
Go's range, the horizon) is left to the loader, which says it at file:line:column.

Callers: the step declarations in `scenario.steps` and `scenario.language_schema`. Pure data:
this module must never import a runtime module, read a file or parse a scenario.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

Fragment = dict[str, Any]
"""A JSON Schema, as the JSON object it is."""

DURATION_PATTERN = r"^\+?(0|((\d+(\.\d*)?|\.\d+)(ms|s|m|h))+)$"
"""A Go duration that is not negative, with the units `model.duration.parse` knows."""
RFC3339_PATTERN = r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
"""An RFC 3339 time, as a scenario's `start` is checked."""
REF_PATTERN = r"^[^/]+/[^/]+(/[^/]+)?$"
"""`Kind/namespace/name`, or `Kind/name` for a cluster-scoped object (`fields.ref`)."""
IMAGE_PATTERN = r"^(localhost|[^/]*[.:][^/]*)/.*:[^/:]+$"
"""`<registry host>/<name>:<tag>` (`fields.images`): the host has a dot or a port, or is localhost."""
GIT_REF_PATTERN = r"^[^-]"
"""A branch or tag name never starts with `-` (the rest of git's rules are the loader's)."""


def _with(fragment: Fragment, description: str, extra: Mapping[str, Any]) -> Fragment:
    out = dict(fragment)
    if description:
        out["description"] = description
    out.update(extra)
    return out


def text(description: str, **extra: Any) -> Fragment:
    """A free-text field (`fields.text`): a YAML string."""
    return _with({"type": "string"}, description, extra)


def string(description: str, **extra: Any) -> Fragment:
    """A name (`fields.string`): a string, or a number the loader reads as its text."""
    return _with({"type": ["string", "number"]}, description, extra)


def integer(description: str, minimum: int | None = None, maximum: int | None = None) -> Fragment:
    bounds = {k: v for k, v in (("minimum", minimum), ("maximum", maximum)) if v is not None}
    return _with({"type": "integer"}, description, bounds)


def boolean(description: str) -> Fragment:
    return _with({"type": "boolean"}, description, {})


def choice(description: str, values: Iterable[Any]) -> Fragment:
    """One of a fixed set of values (generated from the set the parser checks against)."""
    return _with({"enum": list(values)}, description, {})


def anything(description: str) -> Fragment:
    """Any YAML value."""
    return _with({}, description, {})


def duration(description: str) -> Fragment:
    """A Go duration (`fields.duration`): `30s`, `5m`, `1h30m`, `500ms`, never negative; the bare
    number 0 too."""
    return _with(
        {"type": ["string", "integer"], "pattern": DURATION_PATTERN, "minimum": 0, "maximum": 0},
        description,
        {"examples": ["30s", "5m", "1h30m"]},
    )


def time(description: str) -> Fragment:
    """An RFC 3339 time such as `2025-01-01T00:00:00Z`."""
    return _with(
        {"type": "string", "pattern": RFC3339_PATTERN}, description, {"examples": ["2025-01-01T00:00:00Z"]}
    )


def ref(description: str, *, kind: str | None = None) -> Fragment:
    """An object named as Flux prints it (`fields.ref`): `Kind/namespace/name` or `Kind/name`;
    with `kind`, only `<kind>/namespace/name`."""
    if kind is None:
        return _with(
            {"type": "string", "pattern": REF_PATTERN},
            description,
            {"examples": ["Kustomization/flux-system/apps"]},
        )
    return _with(
        {"type": "string", "pattern": f"^{kind}/[^/]+/[^/]+$"},
        description,
        {"examples": [f"{kind}/flux-system/name"]},
    )


def git_ref(description: str) -> Fragment:
    """A branch or tag name (`fields.git_ref`: git's rules, never starting with `-`)."""
    return _with({"type": ["string", "number"], "pattern": GIT_REF_PATTERN, "minLength": 1}, description, {})


def image(description: str) -> Fragment:
    """One container image reference with its registry host and a tag."""
    return _with(
        {"type": "string", "pattern": IMAGE_PATTERN},
        description,
        {"examples": ["ghcr.io/stefanprodan/podinfo:6.5.0"]},
    )


def images(description: str) -> Fragment:
    """One image reference or a list of them (`fields.images`)."""
    return any_of(
        description, image("host/name:tag"), list_of("a list of host/name:tag", image("host/name:tag"))
    )


MATCH_FORMS = ("contains", "regex", "glob")
"""The forms of `model.matching.Match`, as `{form: text}`."""


def match() -> Fragment:
    """`{contains: text}`, `{regex: Go RE2 pattern}` or `{glob: pattern}` (`model.matching`)."""
    described = {
        "contains": "text it contains",
        "regex": "a Go (RE2) regular expression, searched anywhere: anchor it with ^…$",
        "glob": "a glob (*, ?, […]) matching the whole text",
    }
    return {
        "type": "object",
        "description": "{contains: …}, {regex: …} or {glob: …}",
        "properties": {form: text(described[form]) for form in MATCH_FORMS},
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
    }


def text_or_match(description: str, literal: Fragment | None = None) -> Fragment:
    """A string an expectation compares (`fields.text_or_match`): a literal (`literal` narrows
    it), or a match form."""
    return any_of(description, literal or text("the text, literally"), match())


def mapping(
    description: str, properties: Mapping[str, Fragment], required: Iterable[str] = (), **extra: Any
) -> Fragment:
    """A mapping with exactly these keys allowed (`fields.mapping`), `required` among them."""
    out: Fragment = {"type": "object", "properties": dict(properties), "additionalProperties": False}
    if needed := list(required):
        out["required"] = needed
    return _with(out, description, extra)


def map_of(description: str, values: Fragment, **extra: Any) -> Fragment:
    """A mapping of free keys (paths, names) to values of one shape."""
    return _with({"type": "object", "additionalProperties": values}, description, extra)


def list_of(description: str, items: Fragment, **extra: Any) -> Fragment:
    return _with({"type": "array", "items": items}, description, extra)


def any_of(description: str, *branches: Fragment, **extra: Any) -> Fragment:
    return _with({"anyOf": list(branches)}, description, extra)


def use(name: str) -> Fragment:
    """A reference to the definition `name` that a fragment made with `defining` holds."""
    return {"$ref": f"#/$defs/{name}"}


def defining(fragment: Fragment, definitions: Mapping[str, Fragment]) -> Fragment:
    """`fragment`, holding `definitions` that it (and they) refer to with `use(name)`: what several
    places of a fragment share, written once. The names are the whole schema's (the assembled
    schema holds every fragment's definitions at its root, and refuses one name given twice)."""
    return {**fragment, "$defs": dict(definitions)}


def files(description: str, *, allow_null: bool) -> Fragment:
    """File paths to their text (`fields.files`); `allow_null`: null deletes the file."""
    content = (
        {"type": ["string", "null"], "description": "the file's text, or null to delete it"}
        if allow_null
        else text("the file's text")
    )
    return map_of(description, content, examples=[{"apps/config.yaml": "apiVersion: v1\n"}])


def path(description: str, example: str) -> Fragment:
    """A path relative to the scenario file's folder, which must stay inside it."""
    return _with({"type": ["string", "number"], "minLength": 1}, description, {"examples": [example]})


def _manifest() -> Fragment:
    name = _with({"type": "string", "minLength": 1}, "", {})
    return {
        "type": "object",
        "description": "a Kubernetes object, as a mapping",
        "required": ["apiVersion", "kind", "metadata"],
        "properties": {
            "apiVersion": _with(name, "its API version (v1, kustomize.toolkit.fluxcd.io/v1, …)", {}),
            "kind": _with(name, "its kind", {}),
            "metadata": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": _with(name, "its name", {}), "namespace": text("its namespace")},
            },
        },
    }


def manifests(description: str) -> Fragment:
    """What `fields.manifests` reads: a manifest (YAML text, which may hold several documents, or a
    mapping) or `{file: path}`, or a list of those."""
    one = [
        text("YAML text: one manifest or several documents"),
        _manifest(),
        mapping(
            "the manifests in a file beside the scenario",
            {"file": path("a YAML file beside the scenario (relative)", "flux/sync.yaml")},
            required=("file",),
        ),
    ]
    return any_of(
        description,
        *one,
        list_of("a list of manifests", any_of("a manifest, or {file: path}", *one)),
        examples=[
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "settings", "namespace": "default"},
            }
        ],
    )

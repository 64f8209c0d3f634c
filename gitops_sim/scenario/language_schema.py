"""The JSON Schema (draft 2020-12) of scenario files, for editors: completion, hover text and
errors as you type, in VS Code's YAML extension or any editor on yaml-language-server.

`generate()` assembles it from the language itself: the top level here (the keys
`scenario.schema.parse` accepts, `TOP_KEYS`), and under `steps` one property per declared step,
in the registry's order (`registry.declared()`), each the fragment its declaration carries
(`Declaration.schema()`, written beside the step's parser with `steps.shapes`). A step item is a
mapping with exactly one of those keys (`maxProperties: 1`, `additionalProperties: false`), so an
editor lists every step with its description, and a mistyped key is "not allowed" at that key.
Definitions a fragment holds (`shapes.defining`) are gathered under the root's `$defs`.
`render()` is its text: sorted keys, two-space indents, a trailing newline, the same for the same
language (`schemas/scenario.schema.json` in the repository is this text, and a test says so).

The schema says what the loader accepts wherever JSON Schema can; what it cannot (a file that must
exist, a regex that must compile, the horizon, a repository a step names) the loader still says,
at file:line:column.

Callers: the CLI (`gitops-sim schema`) and the tests. Like `scenario.schema`, this module must
never import a runtime module (engine, controllers, cluster, storage, the step actions), read a
file or run anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import registry, shapes

DIALECT = "https://json-schema.org/draft/2020-12/schema"
"""The JSON Schema dialect the schema is written in."""

SHIPPED_PATH = "schemas/scenario.schema.json"
"""Where the repository keeps a copy of `render()`, relative to its root."""


def _top_level() -> dict[str, shapes.Fragment]:
    """The scenario's top-level keys, as `scenario.schema.parse` reads them."""
    duration = shapes.duration
    repo = shapes.mapping(
        "a git repository, served locally over git's smart HTTP under its URL",
        {
            "url": shapes.string(
                "the URL your GitRepository uses", examples=["https://github.com/acme/fleet"]
            ),
            "branch": shapes.git_ref("its default branch (default main)"),
            "files": shapes.files("its first files: paths to their text", allow_null=False),
            "dir": shapes.path("a folder beside the scenario whose files are its first files", "./fleet"),
            "message": shapes.text("the first commit's message (default: Initial commit)"),
            "auth": shapes.mapping(
                "what the git server requires: username and password, or bearerToken",
                {
                    "username": shapes.string("the user name"),
                    "password": shapes.string("the password"),
                    "bearerToken": shapes.string("the bearer token"),
                },
                minProperties=1,
            ),
        },
        required=("url",),
    )
    sink = shapes.mapping(
        "an HTTP endpoint that receives notifications, hosted under the URL a Provider names",
        {
            "url": shapes.text(
                "http(s)://host[:port][/path], without user or password; one sink per host",
                pattern=r"^https?://[^/?#@:][^/?#@]*([/?#][\s\S]*)?$",
                examples=["https://hooks.slack.com"],
            ),
            "type": shapes.string(
                "the provider type whose payloads it receives, how `expect: notification` reads them "
                "(default generic)",
                examples=["slack", "generic", "github"],
            ),
        },
        required=("url",),
    )
    return {
        "$schema": shapes.string(
            "where an editor finds this schema (a path or a URL); nothing else reads it"
        ),
        "apiVersion": {
            "const": schema.API_VERSION,
            "description": "with kind: Scenario, makes the file a scenario that `gitops-sim run DIR` and "
            "pytest find in a folder",
        },
        "kind": {"const": schema.KIND, "description": "with apiVersion, makes the file a scenario"},
        "name": shapes.text("what the scenario shows, in a sentence (required)"),
        "description": shapes.text("free text", type=["string", "null"]),
        "seed": shapes.integer("seeds uids and interval jitter (default 0)"),
        "start": shapes.time("the calendar time of t=0, from 1970 to 9000 (default 2025-01-01T00:00:00Z)"),
        "repos": shapes.map_of(
            "git repositories by name (letters, digits, '.', '_' and '-', not starting with '.' or '-')",
            repo,
        ),
        "images": shapes.images(
            "container images in the scenario's registries from the start (host/name:tag), one or a list"
        ),
        "kubelet": shapes.mapping(
            "how long Pods take on the simulated node",
            {
                "pull": duration("pulling an image (default 2s)"),
                "ready": duration("from started to ready (default 1s)"),
                "run": duration("how long a Job's Pod runs (default 5s)"),
            },
        ),
        "cluster": shapes.mapping(
            "the cluster the scenario starts with",
            {
                "flux": shapes.choice(
                    "installed (default): Flux's Deployments rolled out before t=0; absent: no Flux until "
                    "a step installs it (`flux: install`, `flux: bootstrap …`)",
                    ["installed", "absent"],
                )
            },
            required=("flux",),
        ),
        "sinks": shapes.map_of("HTTP endpoints that receive notifications, by name", sink),
        "apply": shapes.manifests(
            "manifests applied at t=0 as `kubectl apply --server-side` would: YAML text, a mapping or "
            "{file: path}, or a list of them"
        ),
        "steps": shapes.list_of("the story, in order", _step_item()),
    }


def _step_item() -> shapes.Fragment:
    """A step: a mapping with exactly one declared step key."""
    properties: dict[str, shapes.Fragment] = {}
    for key, declaration in registry.declared().items():
        fragment = dict(declaration.schema())
        explained = fragment.get("description")
        fragment["description"] = f"{explained}\n\n{declaration.usage}" if explained else declaration.usage
        properties[key] = fragment
    return {
        "type": "object",
        "description": "a step: a mapping with exactly one of " + ", ".join(properties),
        "properties": properties,
        "minProperties": 1,
        "maxProperties": 1,
        "additionalProperties": False,
    }


def generate() -> dict[str, Any]:
    """The JSON Schema of a scenario file, from the steps declared now."""
    top = _top_level()
    missing = set(schema.TOP_KEYS) ^ set(top)
    if missing:  # the loader and this schema must name the same keys
        raise ValueError(f"the top-level keys of the schema and the loader differ: {sorted(missing)}")
    root: dict[str, Any] = {
        "$schema": DIALECT,
        "title": f"gitops-sim scenario ({schema.API_VERSION})",
        "description": "A scenario: git repositories with their first files, Flux objects applied at "
        "the start, then steps, in virtual time. Generated by `gitops-sim schema`.",
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {key: top[key] for key in schema.TOP_KEYS},
    }
    definitions: dict[str, Any] = {}
    hoisted = _hoist(root, definitions)
    if definitions:
        hoisted["$defs"] = definitions
    return hoisted


def render() -> str:
    """`generate()` as the text of a JSON file: sorted keys, a trailing newline."""
    return json.dumps(generate(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_NAMED_SCHEMAS = ("properties", "patternProperties", "dependentSchemas")
_LISTED_SCHEMAS = ("anyOf", "oneOf", "allOf", "prefixItems")
_VALUES = ("const", "enum", "default", "examples")


def _hoist(node: Mapping[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """`node` without the `$defs` of its subschemas, which go to `definitions` (one name defined
    twice differently is a mistake: `ValueError`)."""
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$defs":
            for name, definition in value.items():
                given = _hoist(definition, definitions)
                if definitions.setdefault(name, given) != given:
                    raise ValueError(f"two step schemas define {name!r} differently")
        elif key in _NAMED_SCHEMAS:
            out[key] = {name: _hoist(sub, definitions) for name, sub in value.items()}
        elif key in _LISTED_SCHEMAS:
            out[key] = [_hoist(sub, definitions) for sub in value]
        elif isinstance(value, Mapping) and key not in _VALUES:
            out[key] = _hoist(value, definitions)
        else:
            out[key] = value
    return out

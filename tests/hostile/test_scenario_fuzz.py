"""Random scenario documents, valid keys mixed with junk and hostile scalars, fed to the loader:
each is a Scenario or a LoadError whose message starts with file:line:column, nothing else; and
`gitops-sim validate` writes nothing outside the test's folder.

Examples: 50 by default; GITOPS_SIM_FUZZ_EXAMPLES=N for a longer run."""

from __future__ import annotations

import copy
import os
import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitops_sim import cli
from gitops_sim.scenario import loader, schema
from gitops_sim.scenario.located import LoadError

EXAMPLES = int(os.environ.get("GITOPS_SIM_FUZZ_EXAMPLES", "50"))  # noqa: TID251  # the test's own knob

KEYS = [
    *schema.TOP_KEYS,
    *schema.STEP_KEYS,
    "url",
    "branch",
    "files",
    "dir",
    "file",
    "message",
    "repo",
    "object",
    "set",
    "unset",
    "within",
    "fields",
    "absent",
    "condition",
    "type",
    "status",
    "pull",
    "kind",
    "metadata",
]
HOSTILE = [
    "[/red]",
    "[bold]x",
    "\x1b[31m",
    "\ud800",
    "\x00",
    "\u202e",
    "../../../../etc/hostname",
    "/etc/hostname",
    "-x",
    "--upload-pack=touch",
    ".git/config",
    "9" * 400 + "h",
    "-10m",
    "10m",
    "876000h",
    "2025-01-01T00:00:00Z",
    "9999-12-31T00:00:00Z",
    "2024-13-45",
    "Kind/ns/name",
    "Namespace/default",
    "",
]
FRAGMENTS = [
    "[" * 200 + "]" * 200,
    "&a [*a]",
    "!!python/name:os.system",
    "!!int abc",
    "!unknown x",
    "!!binary aGk=",
    ".nan",
    '"\\ud800"',
    "{a: &b [1, 2], c: *b}",
    "<<: {a: 1}",
]

scalars = st.one_of(
    st.text(max_size=20),
    st.sampled_from(HOSTILE),
    st.integers(),
    st.integers(min_value=10**300, max_value=10**400),
    st.floats(),
    st.booleans(),
    st.none(),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(KEYS), st.text(max_size=8)), inner, max_size=4),
    ),
    max_leaves=25,
)
steps = st.lists(
    st.dictionaries(st.sampled_from([*schema.STEP_KEYS, "junk"]), values, min_size=1, max_size=2)
)
documents = st.fixed_dictionaries(
    {"name": scalars, "steps": st.one_of(steps, values)},
    optional={key: values for key in KEYS if key not in ("name", "steps")},
)


VALID: dict[str, Any] = {
    "name": "valid",
    "description": "text",
    "seed": 1,
    "start": "2025-01-01T00:00:00Z",
    "repos": {
        "fleet": {"url": "https://github.com/acme/fleet", "branch": "main", "files": {"a/b.yaml": "x"}}
    },
    "images": ["ghcr.io/acme/app:1.0.0"],
    "kubelet": {"pull": "1s", "ready": "1s", "run": "1s"},
    "apply": [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "default"}}],
    "steps": [
        {"commit": {"repo": "fleet", "files": {"a/c.yaml": "y"}, "delete": ["a/b.yaml"], "tag": "v1"}},
        {"tag": {"repo": "fleet", "name": "v2", "ref": "main", "message": "m"}},
        {"drift": {"object": "ConfigMap/default/c", "set": {"data.a": "b"}, "unset": ["data.b"]}},
        {"advance": "10m"},
        {"expect": {"condition": {"object": "ConfigMap/default/c", "type": "Ready", "status": "True"}}},
        {"expect": [{"object": "ConfigMap/default/c", "fields": {"data.a": "b"}, "within": "1m"}]},
    ],
}


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict):
        return [path] + [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list):
        return [path] + [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    """A valid scenario with one value (or key) anywhere in it replaced by a random one."""
    doc = copy.deepcopy(VALID)
    path = draw(st.sampled_from(_leaves(doc)[1:]))
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and draw(st.booleans()):
        parent[draw(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=8)))] = parent.pop(path[-1])
    else:
        parent[path[-1]] = draw(values)
    return doc


@st.composite
def scenario_files(draw: st.DrawFn) -> bytes:
    """A scenario document as YAML, sometimes with a hostile fragment spliced in as a value,
    a deep nesting or bytes that are not UTF-8."""
    doc: Any = draw(st.one_of(documents, mutated()))
    try:
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
    except yaml.YAMLError:
        text = yaml.safe_dump(doc, allow_unicode=False, sort_keys=False)
    data = text.encode("utf-8", errors="surrogatepass")
    how = draw(st.sampled_from(["as-is", "fragment", "deep", "bytes"]))
    if how == "fragment":
        data += f"{draw(st.sampled_from(KEYS))}: {draw(st.sampled_from(FRAGMENTS))}\n".encode()
    elif how == "deep":
        depth = draw(st.integers(min_value=90, max_value=3000))
        data += b"seed: " + b"[" * depth + b"]" * depth + b"\n"
    elif how == "bytes":
        data += draw(st.binary(min_size=1, max_size=16))
    return data


LOCATED = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<column>\d+): ")


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=scenario_files())
def test_a_random_document_loads_or_is_refused_with_file_line_and_column(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    result: schema.Scenario | str
    try:
        result = loader.load(path)
    except LoadError as exc:
        result = str(exc)
    if isinstance(result, str):
        match = LOCATED.match(result)
        assert match is not None, result
        assert match["file"] == str(path) or Path(match["file"]).is_relative_to(tmp_path)
        assert int(match["line"]) >= 1 and int(match["column"]) >= 1
    else:
        assert isinstance(result, schema.Scenario)


_writes: list[str] = []
_watching: list[Path] = []
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def _audit(event: str, args: tuple[Any, ...]) -> None:
    """Record every write, creation or removal of a path outside the watched folder."""
    if not _watching:
        return
    if event == "open":
        target, mode, flags = args
        writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
            isinstance(flags, int) and flags & _WRITE_FLAGS
        )
        paths = [target] if writing else []
    elif event in ("os.mkdir", "os.remove", "os.rmdir", "os.rename", "os.symlink", "os.link", "os.truncate"):
        paths = [a for a in args[:2] if isinstance(a, str | bytes | os.PathLike)]
    else:
        return
    for each in paths:
        if isinstance(each, int):
            continue
        full = Path(os.fsdecode(each)).absolute()
        if not full.is_relative_to(_watching[0]):
            _writes.append(f"{event} {full}")


sys.addaudithook(_audit)


@settings(
    max_examples=max(5, EXAMPLES // 5),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=scenario_files())
def test_validate_writes_nothing_outside_the_test_folder(
    tmp_path: Path, data: bytes, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(data)
    _writes.clear()
    _watching[:] = [tmp_path.absolute()]
    try:
        code = cli.main(["validate", str(path)])
    finally:
        _watching.clear()
    capsys.readouterr()
    assert code in (0, 2)
    assert _writes == []

"""go-yaml v2's Marshal, emulated: the same bytes as the real kustomize prints for the same objects."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitops_sim.helm import render
from gitops_sim.model import goyaml

TRICKY = [
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "Y",
    "true",
    "False",
    "null",
    "Null",
    "~",
    "",
    "123",
    "0755",
    "1e3",
    "1_000",
    "1:20",
    "2024-01-01",
    "2024-01-01T10:00:00Z",
    ".5",
    "+1",
    "-1",
    "0x1F",
    "0o17",
    "0b11",
    ".inf",
    "-.inf",
    ".nan",
    "=",
    "<<",
    "?q",
    "a: b",
    "- dash",
    "#hash",
    "x #y",
    "@at",
    "`tick",
    "!bang",
    "%pct",
    "&amp",
    "*star",
    "{brace",
    "[bracket",
    "quote'single",
    'quote"double',
    "colon:",
    "http://x:80/y?b=c&d=e",
    "a\\b",
    "0",
    "-",
    "--",
    "---",
    "...",
    "a,b",
    "[]",
    "{}",
    " leading",
    "trailing ",
    "multi\nline",
    "multi\nline\n",
    "multi\n\nline\n\n",
    "  indented\nline",
    "line\n  indented more\n",
    "nginx:1.16.0",
    "--flag=value",
    "$(VAR)",
    "{{ template }}",
    "a|b",
    "a>b",
    "word " * 30,
    "x" * 120,
    "key=value,other=thing " * 6,
    "1.0",
    "1.",
    "v1.2.3",
    "0.0.0.0",
    "::",
    "a::b",
    "'quoted'",
    '"dq"',
    "tab-free text",
    "%",
    "|",
    ">",
    "!",
    "&",
    "*",
    "?",
    ":",
    ",",
    "#",
]
KEYS = [
    "a1",
    "a10",
    "a2",
    "a01",
    "a001",
    "A",
    "b",
    "_x",
    "1",
    "10",
    "2",
    "port-10",
    "port-9",
    "z0",
    "Z",
    "x10y",
    "x9y",
    "n",
    "yes",
    "apiVersionX",
    "data",
    "key",
    "k.8s.io/x",
]


def _value(rng: random.Random, depth: int) -> Any:
    pick = rng.random()
    if depth < 3 and pick < 0.2:
        return {rng.choice(KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if depth < 3 and pick < 0.3:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    if pick < 0.4:
        return rng.choice([0, -5, 7, 2**40, True, False, None])
    return rng.choice(TRICKY)


def _objects(count: int) -> list[dict[str, Any]]:
    rng = random.Random(15)
    out = []
    for i in range(count):
        body = {rng.choice(KEYS): _value(rng, 0) for _ in range(rng.randint(1, 6))}
        out.append(
            {"apiVersion": "example.com/v1", "kind": "Thing", "metadata": {"name": f"t{i}"}, "spec": body}
        )
    return out


@pytest.fixture(scope="module")
def kustomized(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, Any]], list[str]]:
    """The objects, and each as the real kustomize (kubectl's) prints it, in input order."""
    folder: Path = tmp_path_factory.mktemp("goyaml")
    objs = _objects(400)
    (folder / "things.yaml").write_text("\n---\n".join(json.dumps(o) for o in objs) + "\n")
    (folder / "kustomization.yaml").write_text("resources: [things.yaml]\nsortOptions: {order: fifo}\n")
    kubectl = render.kubectl_path()
    out = subprocess.run([kubectl, "kustomize", str(folder)], check=True, capture_output=True, text=True)
    return objs, out.stdout.split("---\n")


def test_every_object_is_written_byte_for_byte_as_kustomize_prints_it(
    kustomized: tuple[list[dict[str, Any]], list[str]],
) -> None:
    objs, printed = kustomized
    assert len(printed) == len(objs)
    for obj, text in zip(objs, printed, strict=True):
        assert goyaml.marshal(obj) == text, obj["metadata"]["name"]


def test_keys_are_ordered_as_go_yaml_orders_them() -> None:
    assert (
        goyaml.marshal({"a10": 1, "a2": 2, "a1": 3, "b": 4, "A": 5}) == "A: 5\na1: 3\na2: 2\na10: 1\nb: 4\n"
    )


@pytest.mark.parametrize("value", [1.5, b"raw", {1: "int key"}, "tab\there", "caf\u00e9", "cr\r"])
def test_what_it_cannot_promise_is_refused(value: Any) -> None:
    with pytest.raises(goyaml.Unsupported):
        goyaml.marshal({"v": value})

"""go-yaml v2's `Marshal` of a JSON value: the YAML kustomize prints (sigs.k8s.io/yaml `JSONToYAML`).

What it does: `marshal(value)` writes a JSON-shaped value (dicts with string keys, lists,
strings, integers, booleans, None) byte for byte as go-yaml v2 writes the `interface{}` that
`JSONToYAML` decodes from JSON: mapping keys in go-yaml's order (`keyList.Less`: letters by code
point, runs of digits by their number), a string double-quoted when go-yaml's resolver would read
its plain form as another type (`true`, `"123"`, `""`, `"2024-01-01"`, base-60 numbers), literal
block style for a string with a line break, plain otherwise unless the emitter refuses plain
(then single-quoted), lines folded at 80 columns, sequences not indented under their key, `{}`
and `[]` for empty collections. The emitter is libyaml's own (PyYAML's C binding; PyYAML's
Python port of it where libyaml is missing), which go-yaml ported, so the layout decisions
(folding, quoting fallbacks, block scalar hints) are the same, but for the `...` libyaml writes
after an open-ended last scalar, which is taken off; the choices go-yaml's encoder makes before
the emitter are made here.

What it refuses (`Unsupported`, so the caller runs the real kustomize instead): floats (Go
formats them with `strconv.FormatFloat`), bytes, keys that are not strings, and strings with a
character outside printable ASCII or a tab or carriage return, or a line break beside trailing
blanks (where the two emitters' escaping could differ).

Provenance: behaviour of go-yaml v2 encode.go (`stringv`, `isBase60Float`), sorter.go
(`keyList.Less`), emitterc.go (libyaml's emitter) and sigs.k8s.io/yaml `JSONToYAML`; checked
against the real kustomize in tests/model/test_goyaml.py. Our own code.

Callers: `helm.render` (helm-controller's origin-label and common-metadata post-renderers,
without a kustomize process). Pure; never reads YAML (see `yamlsafe`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from gitops_sim.model import yamlsafe


class Unsupported(ValueError):
    """A value whose go-yaml output this module does not promise to match."""


_SAFE = re.compile(r"[\x20-\x7e\n]*\Z")
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")


def _less(a: str, b: str) -> bool:
    """go-yaml v2 `keyList.Less` for two strings."""
    ar, br = a, b
    for i in range(min(len(ar), len(br))):
        if ar[i] == br[i]:
            continue
        al, bl = ar[i].isalpha(), br[i].isalpha()
        if al and bl:
            return ar[i] < br[i]
        if al or bl:
            return bl
        an = bn = 0
        if ar[i] == "0" or br[i] == "0":
            j = i - 1
            while j >= 0 and ar[j].isdigit():
                if ar[j] != "0":
                    an = bn = 1
                    break
                j -= 1
        ai = i
        while ai < len(ar) and ar[ai].isdigit():
            an = an * 10 + int(ar[ai])
            ai += 1
        bi = i
        while bi < len(br) and br[bi].isdigit():
            bn = bn * 10 + int(br[bi])
            bi += 1
        if an != bn:
            return an < bn
        if ai != bi:
            return ai < bi
        return ar[i] < br[i]
    return len(ar) < len(br)


def _compare(a: str, b: str) -> int:
    return -1 if _less(a, b) else (1 if _less(b, a) else 0)


_KEY = functools.cmp_to_key(_compare)


def _check(text: str) -> None:
    if not _SAFE.match(text):
        raise Unsupported(f"string {text[:40]!r} holds a character go-yaml may escape differently")
    if "\n" in text and (" \n" in text or text.endswith(" ")):
        raise Unsupported(f"string {text[:40]!r} has trailing blanks beside a line break")


_BASE_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_BASE_DUMPER):  # type: ignore[valid-type,misc]  # CSafeDumper has no stubs
    """libyaml's emitter (the one go-yaml ported; PyYAML's port without libyaml) with go-yaml's
    resolver: a scalar is written plain only where go-yaml reads it back with the same type."""

    def resolve(self, kind: Any, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            go_tag = yamlsafe.resolve(value)[0]
            return yamlsafe.FLOAT if go_tag == yamlsafe.STR and _BASE60.match(value) else go_tag
        tag: str = super().resolve(kind, value, implicit)
        return tag


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    _check(value)
    style: str | None = None
    if "\n" in value:
        style = "|"
    elif yamlsafe.resolve(value)[0] != yamlsafe.STR or _BASE60.match(value):
        style = '"'
    return dumper.represent_scalar(yamlsafe.STR, value, style=style)


def _represent_dict(dumper: yaml.SafeDumper, value: dict[Any, Any]) -> yaml.MappingNode:
    for key in value:
        if not isinstance(key, str):
            raise Unsupported(f"mapping key {key!r} is not a string")
        _check(key)
    ordered = sorted(value, key=_KEY)
    return dumper.represent_mapping(yamlsafe.MAP, [(k, value[k]) for k in ordered])


def _refuse(dumper: yaml.SafeDumper, value: Any) -> yaml.Node:
    raise Unsupported(f"{type(value).__name__} values are not written here")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(float, _refuse)
_Dumper.add_representer(bytes, _refuse)


def marshal(value: Any) -> str:
    """`value` as go-yaml v2's `Marshal` writes it after sigs.k8s.io/yaml's JSON round trip;
    `Unsupported` when it holds something this module does not write (see the module docstring)."""
    text: str = yaml.dump(value, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=80, indent=2)
    # libyaml ends a document whose last scalar is open-ended with `...`; go-yaml's port does not.
    return text[:-4] if text.endswith("\n...\n") else text

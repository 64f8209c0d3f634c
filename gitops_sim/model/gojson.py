"""Go's `encoding/json` output for plain JSON values: what `json.Marshal` writes.

`marshal(value)` is compact JSON with Go's escapes: `<`, `>` and `&` as `\\u003c`, `\\u003e`,
`\\u0026` (HTML-safe, Go's default) and U+2028/U+2029 escaped; other non-ASCII text stays UTF-8.
Go writes a map's keys sorted and a struct's fields in declaration order: pass dicts in the order
Go would write them, or `sort_keys=True` for values that are all maps.

Provenance: Go's encoding/json (encode.go: `appendString`, `HTMLEscape`); our own code.
Callers: anything that must produce the bytes a Flux component would (event payloads, signed
bodies, Helm's release records). Pure.
"""

from __future__ import annotations

import json
from typing import Any

_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
)


def escape(text: str) -> str:
    """Go's escapes applied to JSON text that Python wrote with `ensure_ascii=False`."""
    for char, escaped in _ESCAPES:
        text = text.replace(char, escaped)
    return text


def marshal(value: Any, *, sort_keys: bool = False) -> bytes:
    """`json.Marshal(value)` (see the module docstring)."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=sort_keys)
    return escape(text).encode()

"""SOPS's file format: encrypt and decrypt YAML, JSON, dotenv and binary files as `sops` does.

What it does: a SOPS file is a tree (mappings, lists, scalars) with a `sops` metadata entry.
Each value is encrypted with AES-256-GCM under one random 32-byte data key, as
`ENC[AES256_GCM,data:…,iv:…,tag:…,type:str|int|float|bool|time|bytes|comment]`, a 32-byte IV and
the value's path (`key:key:…:`) as additional data; values whose path the file's rule leaves in
clear (`unencrypted_suffix`, default `_unencrypted`; `encrypted_suffix`; `unencrypted_regex`;
`encrypted_regex`; the two comment regexes) stay as they are. The data key is wrapped for each
master key (`age: [{recipient, enc}]` here, see `model.age`). The MAC is SHA-512 over the
cleartext values in document order (comments excluded; with `mac_only_encrypted` only the
encrypted ones, after a fixed prefix), upper-case hex, encrypted with the data key and
`lastmodified` (RFC 3339) as additional data.

- `load_encrypted(data, fmt)` / `emit_plain(branches, fmt)`: a file in, cleartext out, per store
  (`yaml`, `json`, `dotenv`, `binary`), as sops' stores read and write them;
- `data_key(metadata, identities)`: the data key, or `SopsError` with sops' user error (the
  "Failed to get the data key required to decrypt the SOPS file." report, groups and keys);
- `decrypt_tree` / `encrypt_tree`: the values, returning the MAC of the cleartext;
- `encrypt(data, fmt, recipients, rules, rng, lastmodified)`: what `sops encrypt --age` writes.

Where sops' behaviour depends on Go's types it is followed: YAML scalars resolve as go-yaml v3
reads them (`yes` is a string, `2024-01-02` a timestamp, `017` the integer 15), floats print as
Go's `strconv.FormatFloat` prints them, JSON numbers become ints when they fit an int64.

Fidelity and known gaps: YAML comments are dropped when a YAML file is read (PyYAML keeps none),
so an encrypted comment disappears from a decrypted YAML file and a YAML file with a comment rule
(`encrypted_comment_regex`, `unencrypted_comment_regex`) is refused (`Unsupported`); dotenv
comments are kept, encrypted and decrypted. YAML output follows go-yaml v3's layout (4-space
indent, compact sequences, literal blocks for multi-line strings, its quoting rules) for the
cases tests cover, not every corner of its emitter. INI files, Shamir key groups (more than one
group), and PGP, cloud KMS and Vault master keys are not simulated (`Unsupported`, a message
that says so). Encryption draws every random byte from the caller's seeded generator: what it
writes is for simulations and tests and protects nothing.

Provenance: behaviour of getsops/sops v3.13.2 (sops.go, aes/cipher.go, stores/*, usererrors.go,
age/keysource.go), go-yaml v3's resolver and encoder, goware/prefixer and mitchellh/go-wordwrap;
our own code. Callers: `apply.decrypt` (kustomize-controller's decryptor) and the scenario's
`commit` step (`sops:`). Pure: no I/O, no clock, no global randomness.
"""

from __future__ import annotations

import base64
import datetime
import decimal
import functools
import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import yaml
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gitops_sim.model import age, goregexp, yamlsafe

Format = Literal["yaml", "json", "dotenv", "binary", "ini"]
VERSION = "3.13.2"
"""The sops version whose behaviour this is (kustomize-controller's), written into new files."""
DEFAULT_UNENCRYPTED_SUFFIX = "_unencrypted"
METADATA_KEY = "sops"
SOPS_PREFIX = "sops_"
NONCE_SIZE = 32
YAML_INDENT = 4
MAC_ONLY_ENCRYPTED_INIT = bytes.fromhex("8a3fd2ad54ce66527b1034f3d147be0b0b975b3bf44f72c6fdadec8176f27d69")
DECRYPTION_ORDER = ("age", "pgp")
NAMES = {"binary": "binary", "dotenv": "dotenv", "ini": "INI", "json": "JSON", "yaml": "YAML"}
"""How kustomize-controller names each format in its messages (`sopsFormatToString`)."""

_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")


class SopsError(Exception):
    """A sops error: `str()` is Go's `err.Error()`; `user` its `UserError()` when it has one
    (what kustomize-controller shows through `sopsUserErr`)."""

    def __init__(self, message: str, user: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.user = user

    @property
    def shown(self) -> str:
        return self.user if self.user is not None else self.message


class Unsupported(SopsError):
    """Something sops does that gitops-sim does not simulate."""


# The tree.


@dataclass(frozen=True, slots=True)
class Comment:
    value: str


@dataclass(frozen=True, slots=True)
class Timestamp:
    """A go-yaml v3 timestamp (Go's `time.Time`), kept as its `MarshalText` (RFC 3339 with
    nanoseconds, `Z` for UTC)."""

    text: str


class Branch(list[tuple[Any, Any]]):
    """A mapping as sops keeps one: ordered (key, value) pairs; a key may be a `Comment`."""


def to_branch(value: Any) -> Any:
    """A JSON-shaped value (dicts) as a tree (`Branch`es)."""
    if isinstance(value, dict):
        return Branch((k, to_branch(v)) for k, v in value.items())
    if isinstance(value, list):
        return [to_branch(v) for v in value]
    return value


def to_plain(value: Any) -> Any:
    """A tree as the JSON value kustomize-controller gets back after `json.Unmarshal` into an
    unstructured object: comments dropped, timestamps as text, bytes as base64, integral floats
    as integers (Go marshals 1.0 as `1`)."""
    if isinstance(value, Branch):
        return {k: to_plain(v) for k, v in value if not isinstance(k, Comment)}
    if isinstance(value, list):
        return [to_plain(v) for v in value if not isinstance(v, Comment)]
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    return value


# Go's number formatting.


def _shortest(value: float) -> tuple[str, int]:
    """The shortest decimal digits of a positive finite float and the decimal point's position
    (value = 0.DIGITS × 10^dp), as Go's strconv finds them; ("", 0) for zero."""
    _, digits, exponent = decimal.Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return "", 0
    return text.rstrip("0"), len(text) + int(exponent)


def go_float(value: float, fmt: str) -> str:
    """`strconv.FormatFloat(value, fmt, -1, 64)` for `f`, `e`, `g`, `E`, `G`."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    neg = "-" if math.copysign(1.0, value) < 0 else ""
    digits, dp = _shortest(abs(value))
    low = fmt.lower()
    if not digits:  # zero
        if low == "e":
            return f"{neg}0{fmt}+00"
        return f"{neg}0"
    if low == "g":
        exp = dp - 1
        low = "e" if exp < -4 or exp >= 6 else "f"
        fmt = "e" if fmt == "g" else "E" if low == "e" else "f"
    if low == "e":
        exp = dp - 1
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        sign = "-" if exp < 0 else "+"
        return f"{neg}{mantissa}{fmt}{sign}{abs(exp):02d}"
    if dp <= 0:
        return f"{neg}0.{'0' * -dp}{digits}"
    if dp >= len(digits):
        return f"{neg}{digits}{'0' * (dp - len(digits))}"
    return f"{neg}{digits[:dp]}.{digits[dp:]}"


def _json_float(value: float) -> str:
    """Go's `json.Marshal` of a float64."""
    if not math.isfinite(value):
        raise SopsError(f"json: unsupported value: {go_float(value, 'g')}")
    magnitude = abs(value)
    if magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21):
        text = go_float(value, "e")
        if len(text) >= 4 and text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return go_float(value, "f")


def to_bytes(value: Any) -> bytes:
    """sops' `ToBytes`: a cleartext value as the MAC hashes it."""
    if isinstance(value, Comment):
        return to_bytes(value.value)
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, str):
        return value.encode(errors="surrogateescape")
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return go_float(value, "f").encode()
    if isinstance(value, Timestamp):
        return value.text.encode()
    raise SopsError(f"Could not convert unknown type {_go_type(value)} to bytes")


def _go_type(value: Any) -> str:
    if isinstance(value, Branch):
        return "sops.TreeBranch"
    return {
        bool: "bool",
        int: "int",
        float: "float64",
        str: "string",
        bytes: "[]uint8",
        list: "[]interface {}",
        Timestamp: "time.Time",
        Comment: "sops.Comment",
    }.get(type(value), type(value).__name__)


def _go_value(value: Any) -> str:
    """How `%s` shows a scalar in sops' messages."""
    if isinstance(value, Comment):
        return "{" + value.value + "}"
    if isinstance(value, bool):
        return "%!s(bool=" + ("true" if value else "false") + ")"
    if isinstance(value, int):
        return f"%!s(int={value})"
    return str(value)


# go-yaml v3's resolver (plain scalars), for reading YAML as sops does.

_V3_WORDS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), math.nan),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), math.inf),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), -math.inf),
    "<<": "<<",
}
_OLD_BOOLS = frozenset(
    ("y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF")
)
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_DOT_FLOAT = re.compile(r"\.[0-9]+(?:[eE][-+]?[0-9]+)?\Z")
_GO_INT = re.compile(r"([-+]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)\Z")
_TIMESTAMP = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"
    r"(?:(?P<sep>[Tt ])(?P<h>[0-9]{1,2}):(?P<mi>[0-9]{1,2}):(?P<s>[0-9]{1,2})(?:\.(?P<frac>[0-9]+))?"
    r"(?P<tz>Z|[-+][0-9]{2}:[0-9]{2})?)?\Z"
)


def _go_int(text: str) -> int | None:
    """`strconv.ParseInt(text, 0, 64)`, None when it fails (out of range included)."""
    found = _GO_INT.match(text)
    if not found:
        return None
    sign, digits = found[1], found[2]
    octal = len(digits) > 1 and digits[0] == "0" and digits[1].isdigit()  # Go's base 0: 017 is 15
    value = int(digits, 8) if octal else int(digits, 0)
    value = -value if sign == "-" else value
    return value if -(2**63) <= value < 2**63 else None


def parse_timestamp(text: str) -> Timestamp | None:
    """go-yaml v3's `parseTimestamp`: the layouts it accepts, as Go's `time.Time` marshals."""
    found = _TIMESTAMP.match(text)
    if not found:
        return None
    if found["h"] is not None and found["sep"] == " " and found["tz"] is not None:
        return None  # "2006-1-2 15:4:5.999999999" has no zone
    if found["h"] is not None and found["sep"] in "Tt" and found["tz"] is None:
        return None
    try:
        day = datetime.date(int(found["y"]), int(found["mo"]), int(found["d"]))
        hour, minute, second = (int(found[k] or 0) for k in ("h", "mi", "s"))
        datetime.time(hour, minute, second)
    except ValueError:
        return None
    frac = (found["frac"] or "")[:9].rstrip("0")
    tz = found["tz"] or "Z"
    if tz in ("+00:00", "-00:00"):
        tz = "Z"
    fraction = f".{frac}" if frac else ""
    return Timestamp(f"{day.isoformat()}T{hour:02d}:{minute:02d}:{second:02d}{fraction}{tz}")


def resolve_v3(text: str) -> Any:
    """The value go-yaml v3 gives a plain scalar decoded into `interface{}`."""
    if text in _V3_WORDS:
        return _V3_WORDS[text]
    hint = text[:1]
    if hint == ".":
        if _DOT_FLOAT.match(text):
            return float(text)
        return text
    if hint and (hint.isdigit() or hint in "+-"):
        stamp = parse_timestamp(text)
        if stamp is not None:
            return stamp
        plain = text.replace("_", "")
        number = _go_int(plain)
        if number is not None:
            return number
        if _YAML_FLOAT.match(plain):
            value = float(plain)
            if math.isfinite(value):
                return value
    return text


def _needs_quotes(text: str) -> bool:
    """go-yaml v3's encoder quotes a string its resolver would read as something else, or that
    YAML 1.1 readers would (old booleans, base 60 numbers)."""
    return not isinstance(resolve_v3(text), str) or text in _OLD_BOOLS or bool(_BASE60.match(text))


# Reading YAML (go-yaml v3's nodes, as sops' YAML store turns them into a tree).


def _node_value(node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        branch = Branch()
        seen: set[Any] = set()
        for key_node, value_node in node.value:
            key = _node_value(key_node)
            marker = (type(key), key) if not isinstance(key, float) or not math.isnan(key) else None
            if marker is not None and marker in seen:
                raise SopsError(
                    f"yaml: unmarshal errors:\n  line {key_node.start_mark.line + 1}: "
                    f"mapping key {_go_quote(key)} already defined"
                )
            seen.add(marker)
            branch.append((key, _node_value(value_node)))
        return branch
    if isinstance(node, yaml.SequenceNode):
        return [_node_value(item) for item in node.value]
    assert isinstance(node, yaml.ScalarNode)
    if node.style is not None:  # quoted or block: a string
        return str(node.value)
    implicit = yamlsafe.resolve(str(node.value))[0]
    if node.tag != implicit:  # an explicit tag
        if node.tag == "tag:yaml.org,2002:timestamp":
            return parse_timestamp(str(node.value)) or str(node.value)
        if node.tag == "tag:yaml.org,2002:str":
            return str(node.value)
        try:
            return yamlsafe.construct_scalar(node)
        except yaml.YAMLError as exc:
            raise SopsError(f"Error unmarshaling input YAML: {exc}") from exc
    return resolve_v3(str(node.value))


def _go_quote(value: Any) -> str:
    return json.dumps(str(value), ensure_ascii=False)


def _load_yaml(data: bytes) -> list[Branch]:
    try:
        text = data.decode()
    except UnicodeDecodeError as exc:
        raise SopsError(f"Error unmarshaling input YAML: yaml: invalid UTF-8: {exc.reason}") from exc
    try:
        nodes = yamlsafe.compose_all(text)
    except yaml.YAMLError as exc:
        raise SopsError(f"Error unmarshaling input YAML: {exc}") from exc
    branches: list[Branch] = []
    for node in nodes:
        if isinstance(node, yaml.SequenceNode):
            raise SopsError(
                "Error unmarshaling input YAML: YAML documents that are sequences are not supported"
            )
        if isinstance(node, yaml.ScalarNode):
            if _node_value(node) is None:
                branches.append(Branch())
                continue
            raise SopsError("Error unmarshaling input YAML: YAML documents that are values are not supported")
        value = _node_value(node)
        assert isinstance(value, Branch)
        branches.append(value)
    return branches


# Writing YAML as go-yaml v3's encoder lays it out (indent 4, compact sequences).


def _scalar_styles(text: str) -> tuple[bool, bool, bool]:
    """Whether libyaml's emitter allows (plain in block context, single-quoted, literal) for
    `text`, by PyYAML's port of its analysis."""
    emitter = yaml.emitter.Emitter(cast(Any, None), allow_unicode=True)
    analysis = emitter.analyze_scalar(text)
    return analysis.allow_block_plain, analysis.allow_single_quoted, analysis.allow_block


def _double_quoted(text: str) -> str:
    out = []
    for char in text:
        code = ord(char)
        if char == '"':
            out.append('\\"')
        elif char == "\\":
            out.append("\\\\")
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or code in (0xFEFF, 0x2028, 0x2029):
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _yaml_string(text: str, *, key: bool, hinted: bool = False) -> str | None:
    """A string on one line (plain, single- or double-quoted), or None for a literal block
    (`hinted`: where a block may carry an indentation indicator)."""
    plain_ok, single_ok, block_ok = _scalar_styles(text)
    if "\n" in text and not key:
        if block_ok and "\t" not in text and (hinted or text[:1] not in (" ", "\n")):
            return None
        return _double_quoted(text)
    if "\t" in text or "\n" in text:
        return _double_quoted(text)
    if not text or _needs_quotes(text):
        return _double_quoted(text)
    if plain_ok and not (key and len(text) > 1024):
        return text
    if single_ok:
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


def _yaml_scalar(value: Any, *, key: bool = False, hinted: bool = False) -> str | None:
    if isinstance(value, str):
        return _yaml_string(value, key=key, hinted=hinted)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = go_float(value, "g")
        return {"+Inf": ".inf", "-Inf": "-.inf", "NaN": ".nan"}.get(text, text)
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, bytes):
        return "!!binary " + base64.b64encode(value).decode()
    raise SopsError(f"Error marshaling to YAML: cannot marshal type: {_go_type(value)}")


def _block(text: str, indent: int) -> list[str]:
    """A literal block scalar's header and its lines at `indent`."""
    chomp = ("+" if text.endswith("\n\n") or text == "\n" else "") if text.endswith("\n") else "-"
    body = text[:-1] if text.endswith("\n") else text
    hint = str(YAML_INDENT) if text[:1] in (" ", "\n") else ""
    return [f"|{hint}{chomp}", *(("" if not line else " " * indent + line) for line in body.split("\n"))]


def _next_indent(indent: int) -> int:
    """go-yaml v3: what nests under a key aligns to the next multiple of 4 (a sequence item's
    content just skips its `- `)."""
    return YAML_INDENT * ((indent + YAML_INDENT) // YAML_INDENT)


def _entries(value: Any) -> list[Any]:
    if isinstance(value, Branch):
        return [(k, v) for k, v in value if not isinstance(k, Comment)]
    return [v for v in value if not isinstance(v, Comment)]


def _emit_node(value: Any, indent: int, out: list[str], lead: str, parent: int = 0) -> None:
    """Write `value` after `lead`, the text already on its line: `""` at a document's start,
    `key:` for a mapping value, `- ` for a sequence item; what goes on further lines is at
    `indent`, its parent (the key or the `-`) at column `parent`."""
    compact = lead.endswith("- ")
    if isinstance(value, (Branch, list)) and _entries(value):
        if lead and not compact:
            out.append(lead)
        for i, entry in enumerate(_entries(value)):
            pad = lead if compact and i == 0 else " " * indent
            if not isinstance(value, Branch):
                _emit_node(entry, indent + 2, out, f"{pad}- ", indent)
                continue
            key, item = entry
            key_text = _yaml_scalar(key, key=True) or _double_quoted(str(key))
            _emit_node(item, _next_indent(indent), out, f"{pad}{key_text}:", indent)
        return
    sep = "" if compact or not lead else " "
    if isinstance(value, (Branch, list)):
        out.append(lead + sep + ("{}" if isinstance(value, Branch) else "[]"))
        return
    text = _yaml_scalar(value, hinted=indent - parent == YAML_INDENT)
    if text is None:
        header, *lines = _block(str(value), indent)
        out.append(lead + sep + header)
        out.extend(lines)
    else:
        out.append(lead + sep + text)


def _emit_yaml(branches: Sequence[Branch]) -> bytes:
    docs = []
    for branch in branches:
        out: list[str] = []
        _emit_node(branch, 0, out, "")
        docs.append("\n".join(out) + "\n")
    return "---\n".join(docs).encode()


# JSON.


def _json_int(text: str) -> int | float:
    value = int(text)
    return value if -(2**63) <= value < 2**63 else float(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _load_json(data: bytes) -> Branch:
    try:
        value = json.loads(
            data,
            object_pairs_hook=Branch,
            parse_int=_json_int,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise SopsError("Could not unmarshal input data: the document nests too deeply") from None
    except ValueError as exc:
        raise SopsError(f"Could not unmarshal input data: {exc}") from exc
    if not isinstance(value, Branch):
        if isinstance(value, list):
            raise SopsError(
                "Could not unmarshal input data: SOPS only supports JSON files with a top-level object "
                "(starting with '{'), not arrays or other types. Got delimiter [ instead. To encrypt this "
                'file, wrap it in an object, e.g., {"data": [...]}'
            )
        raise SopsError(
            "Could not unmarshal input data: SOPS only supports JSON files with a top-level object "
            f"(starting with '{{'), not other JSON types. Got {value!r} of type {_go_type(value)} instead"
        )
    return value


def _json_text(value: Any, depth: int) -> str:
    pad, inner = "\t" * depth, "\t" * (depth + 1)
    if isinstance(value, Branch):
        items = [(k, v) for k, v in value if not isinstance(k, Comment)]
        if not items:
            return "{}"
        body = ",\n".join(f"{inner}{_json_string(str(k))}: {_json_text(v, depth + 1)}" for k, v in items)
        return "{\n" + body + "\n" + pad + "}"
    if isinstance(value, list):
        items = [v for v in value if not isinstance(v, Comment)]
        if not items:
            return "[]"
        return "[\n" + ",\n".join(inner + _json_text(v, depth + 1) for v in items) + "\n" + pad + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _json_float(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Timestamp):
        return _json_string(value.text)
    if isinstance(value, bytes):
        return _json_string(base64.b64encode(value).decode())
    raise SopsError(f"json: unsupported type: {_go_type(value)}")


def _json_string(text: str) -> str:
    out = json.dumps(text.encode(errors="surrogateescape").decode(errors="replace"), ensure_ascii=False)
    for char, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        out = out.replace(char, escaped)
    return out.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


# dotenv.


def _load_dotenv(data: bytes) -> Branch:
    branch = Branch()
    for raw in data.split(b"\n"):
        if not raw:
            continue
        line = raw.decode(errors="surrogateescape")
        if line.startswith("#"):
            branch.append((Comment(line[1:]), None))
            continue
        key, eq, value = line.partition("=")
        if not eq:
            raise SopsError(f"invalid dotenv input line: {line}")
        branch.append((key, value.replace("\\n", "\n")))
    return branch


def _val_to_string(value: Any) -> str:
    """sops' `stores.ValToString`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = go_float(value, "G")
        return text if "." in text or "E" in text else text + ".0"
    if isinstance(value, Timestamp):
        return re.sub(r"\.[0-9]+(?=Z|[-+])", "", value.text)
    if value is None:
        return "<nil>"
    return str(value)


def _emit_dotenv(branch: Branch) -> bytes:
    lines = []
    for key, value in branch:
        if isinstance(value, (Branch, list)):
            raise SopsError(f"cannot use complex value in dotenv file; offending key {key}")
        if isinstance(key, Comment):
            lines.append(f"#{key.value}\n")
            continue
        text = value.replace("\n", "\\n") if isinstance(value, str) else _val_to_string(value)
        lines.append(f"{key}={text}\n")
    return "".join(lines).encode(errors="surrogateescape")


# Metadata.


@dataclass(frozen=True, slots=True)
class MasterKey:
    """One master key of a file: its type (`age`, `pgp`, `kms`, ...), how sops names it in
    messages, and the data key it wraps."""

    kind: str
    name: str
    enc: str


@dataclass(frozen=True, slots=True)
class Rules:
    """Which values a file encrypts: at most one rule is set (none: `_unencrypted` suffix)."""

    unencrypted_suffix: str = ""
    encrypted_suffix: str = ""
    unencrypted_regex: str = ""
    encrypted_regex: str = ""
    unencrypted_comment_regex: str = ""
    encrypted_comment_regex: str = ""
    mac_only_encrypted: bool = False

    def checked(self) -> Rules:
        """The rules as sops' `ToInternal` leaves them: more than one is an error, none means
        the default suffix."""
        count = sum(
            1
            for v in (
                self.unencrypted_suffix,
                self.encrypted_suffix,
                self.unencrypted_regex,
                self.encrypted_regex,
                self.unencrypted_comment_regex,
                self.encrypted_comment_regex,
            )
            if v
        )
        if count > 1:
            raise SopsError(
                "Cannot use more than one of encrypted_suffix, unencrypted_suffix, encrypted_regex, "
                "unencrypted_regex, encrypted_comment_regex, or unencrypted_comment_regex in the same file"
            )
        if count == 0:
            return Rules(
                unencrypted_suffix=DEFAULT_UNENCRYPTED_SUFFIX, mac_only_encrypted=self.mac_only_encrypted
            )
        return self


_RULE_KEYS = (
    "unencrypted_suffix",
    "encrypted_suffix",
    "unencrypted_regex",
    "encrypted_regex",
    "unencrypted_comment_regex",
    "encrypted_comment_regex",
)
_KEY_TYPES = ("kms", "gcp_kms", "hckms", "azure_kv", "hc_vault", "pgp", "age")
"""The master key lists in the order sops' `internalGroupFrom` puts them in a group."""


@dataclass(frozen=True, slots=True)
class Metadata:
    key_groups: tuple[tuple[MasterKey, ...], ...]
    lastmodified: str
    """`lastmodified` as Go formats the parsed time with RFC 3339 (the MAC's additional data)."""
    mac: str
    rules: Rules
    version: str
    shamir_threshold: int = 0


def _metadata_text(value: Any) -> str:
    """A metadata scalar as mapstructure's weakly typed decoding makes it a string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return go_float(value, "f")
    if isinstance(value, Timestamp):
        return value.text
    if isinstance(value, (Branch, list)):
        raise SopsError("'' expected type 'string', got unconvertible type")
    return str(value)


def _as_dict(branch: Any, where: str) -> dict[str, Any]:
    if not isinstance(branch, Branch):
        raise SopsError(f"'{where}' expected a map, got '{_go_type(branch)}'")
    return {str(k): v for k, v in branch if not isinstance(k, Comment)}


def _key_name(kind: str, entry: dict[str, Any]) -> str:
    if kind == "age":
        return _metadata_text(entry.get("recipient"))
    if kind == "pgp":
        return _metadata_text(entry.get("fp"))
    if kind == "kms":
        return _metadata_text(entry.get("arn"))
    if kind == "gcp_kms":
        return _metadata_text(entry.get("resource_id"))
    if kind == "hckms":
        return _metadata_text(entry.get("key_id"))
    if kind == "azure_kv":
        url, name, version = (_metadata_text(entry.get(k)) for k in ("vault_url", "name", "version"))
        return f"{url}/keys/{name}/{version}"
    address, engine, name = (
        _metadata_text(entry.get(k)) for k in ("vault_address", "engine_path", "key_name")
    )
    return f"{address}/v1/{engine}/keys/{name}"


def _group(entries: dict[str, Any]) -> tuple[MasterKey, ...]:
    keys = []
    for kind in _KEY_TYPES:
        items = entries.get(kind)
        if items is None:
            continue
        if not isinstance(items, list):
            raise SopsError(f"'{kind}': source data must be an array or slice, got {_go_type(items)}")
        for i, item in enumerate(items):
            entry = _as_dict(item, f"{kind}[{i}]")
            keys.append(MasterKey(kind, _key_name(kind, entry), _metadata_text(entry.get("enc"))))
    return tuple(keys)


def rfc3339(text: str) -> str:
    """`time.Parse(time.RFC3339, text)` then `Format(time.RFC3339)`; SopsError as Go's."""
    found = re.match(
        r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.[0-9]+)?(Z|z|[-+][0-9]{2}:[0-9]{2})\Z",
        text,
    )
    if not found:
        raise SopsError(
            f'parsing time "{text}" as "2006-01-02T15:04:05Z07:00": cannot parse "{text}" as "2006"'
        )
    try:
        year, month, day, hour, minute, second = (int(found[i]) for i in range(1, 7))
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError as exc:
        raise SopsError(f'parsing time "{text}": {exc}') from exc
    zone = found[7]
    if zone in ("Z", "z", "+00:00", "-00:00"):
        zone = "Z"
    return f"{found[1]}-{found[2]}-{found[3]}T{found[4]}:{found[5]}:{found[6]}{zone}"


def _metadata(tree: Branch) -> Metadata:
    """sops' metadata struct from the `sops` entry (`ExtractMetadata`, `ToInternal`)."""
    meta = _as_dict(tree, METADATA_KEY)
    lastmodified = rfc3339(_metadata_text(meta.get("lastmodified")))
    rules = Rules(
        **{k: _metadata_text(meta.get(k)) for k in _RULE_KEYS},
        mac_only_encrypted=meta.get("mac_only_encrypted") in (True, "true", "True", "1", 1),
    ).checked()
    flat = {k: meta[k] for k in _KEY_TYPES if meta.get(k)}
    if flat:
        groups: tuple[tuple[MasterKey, ...], ...] = (_group(flat),)
    elif meta.get("key_groups"):
        raw_groups = meta["key_groups"]
        if not isinstance(raw_groups, list):
            raise SopsError("'key_groups': source data must be an array or slice")
        groups = tuple(_group(_as_dict(g, f"key_groups[{i}]")) for i, g in enumerate(raw_groups))
    else:
        raise SopsError("No keys found in file")
    try:
        threshold = int(_metadata_text(meta.get("shamir_threshold")) or 0)
    except ValueError as exc:
        raise SopsError("'shamir_threshold' cannot parse value as 'int'") from exc
    return Metadata(
        key_groups=groups,
        lastmodified=lastmodified,
        mac=_metadata_text(meta.get("mac")),
        rules=rules,
        version=_metadata_text(meta.get("version")),
        shamir_threshold=threshold,
    )


_FLAT = re.compile(r"__(map|list)_")


def _unflatten(items: list[tuple[str, Any]]) -> Branch:
    """sops' `unflattenTreeBranch`: `age__list_0__map_enc` keys back into a tree."""
    root: dict[Any, Any] = {}

    def place(tokens: list[str | int], value: Any, key: str) -> None:
        node = root
        for token in tokens:
            node = node.setdefault(("k", token) if isinstance(token, str) else ("i", token), {})
        if "value" in node:
            raise SopsError(f'Error while unflattening "{key}": Duplicate value')
        node["value"] = value

    for key, value in items:
        tokens: list[str | int] = []
        parts = _FLAT.split(key)
        tokens.append(parts[0])
        for kind, text in zip(parts[1::2], parts[2::2], strict=True):
            if kind == "map":
                tokens.append(text)
            else:
                try:
                    tokens.append(int(text))
                except ValueError:
                    tokens.append(0)
        place(tokens, value, key)

    def convert(node: dict[Any, Any]) -> Any:
        has_value = "value" in node
        subkeys = sorted(k[1] for k in node if isinstance(k, tuple) and k[0] == "k")
        indices = sorted(k[1] for k in node if isinstance(k, tuple) and k[0] == "i")
        if sum(map(bool, (has_value, subkeys, indices))) > 1:
            raise SopsError("Error while unflattening: Type mismatch")
        if has_value:
            return node["value"]
        if subkeys:
            return Branch((k, convert(node[("k", k)])) for k in subkeys)
        if indices:
            if indices != list(range(len(indices))):
                raise SopsError("Error while unflattening: Incomplete list")
            return [convert(node[("i", i)]) for i in indices]
        return Branch()

    result = convert(root)
    assert isinstance(result, Branch)
    return result


@dataclass(slots=True)
class Tree:
    branches: list[Branch]
    metadata: Metadata


def extract(branches: list[Branch], flat: bool) -> Tree:
    """Take the `sops` entry (or, flattened, the `sops_` keys) out of the branches."""
    meta: Branch | None = None
    if flat:
        if branches:
            keep, found = Branch(), []
            for key, value in branches[0]:
                if isinstance(key, str) and key.startswith(SOPS_PREFIX):
                    found.append((key[len(SOPS_PREFIX) :], value))
                else:
                    keep.append((key, value))
            branches[0] = keep
            if found:
                meta = _unflatten(found)
    else:
        for i, branch in enumerate(branches):
            keep = Branch()
            for key, value in branch:
                if key == METADATA_KEY:
                    if i == 0:
                        if meta is not None:
                            raise SopsError(f"Found duplicate {METADATA_KEY} entry")
                        if not isinstance(value, Branch):
                            raise SopsError(f"Found {METADATA_KEY} entry that is not a mapping")
                        meta = value
                    continue
                keep.append((key, value))
            branches[i] = keep
    if meta is None:
        raise SopsError("sops metadata not found")
    return Tree(branches, _metadata(meta))


def load_plain(data: bytes, fmt: Format) -> list[Branch]:
    """A cleartext file as sops' store for `fmt` reads it (`LoadPlainFile`)."""
    if fmt == "yaml":
        return _load_yaml(data)
    if fmt == "json":
        return [_load_json(data)]
    if fmt == "dotenv":
        return [_load_dotenv(data)]
    if fmt == "binary":
        return [Branch([("data", data.decode(errors="surrogateescape"))])]
    raise Unsupported("INI files are not simulated by gitops-sim")


def load_encrypted(data: bytes, fmt: Format) -> Tree:
    """An encrypted file as sops' store for `fmt` reads it (`LoadEncryptedFile`)."""
    if fmt == "binary":
        fmt = "json"  # the binary store's envelope is JSON
    return extract(load_plain(data, fmt), flat=fmt == "dotenv")


def emit_plain(branches: list[Branch], fmt: Format) -> bytes:
    """The cleartext file sops' store for `fmt` writes (`EmitPlainFile`)."""
    if fmt == "yaml":
        return _emit_yaml(branches)
    if fmt == "json":
        return (_json_text(branches[0], 0) + "\n").encode(errors="surrogateescape")
    if fmt == "dotenv":
        return _emit_dotenv(branches[0])
    if fmt == "binary":
        if len(branches) != 1:
            raise SopsError("error emitting binary store: there must be exactly one tree branch")
        for key, value in branches[0]:
            if key == "data":
                if isinstance(value, str):
                    return value.encode(errors="surrogateescape")
                raise SopsError(
                    "error emitting binary store: 'data' key in tree does not have a string value"
                )
        raise SopsError("error emitting binary store: no binary data found in tree")
    raise Unsupported("INI files are not simulated by gitops-sim")


def _metadata_branch(metadata: Metadata) -> Branch:
    """The metadata as sops 3.13 serialises it: keys sorted at every level, empty ones left out."""
    entries: dict[str, Any] = {}
    (group,) = metadata.key_groups
    ages = [Branch([("enc", k.enc), ("recipient", k.name)]) for k in group if k.kind == "age"]
    if ages:
        entries["age"] = ages
    entries["lastmodified"] = metadata.lastmodified
    entries["mac"] = metadata.mac
    for key in _RULE_KEYS:
        if getattr(metadata.rules, key):
            entries[key] = getattr(metadata.rules, key)
    if metadata.rules.mac_only_encrypted:
        entries["mac_only_encrypted"] = True
    entries["version"] = metadata.version
    return Branch(sorted(entries.items()))


def _flatten(branch: Branch, prefix: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []

    def descend(value: Any, key: str) -> None:
        if isinstance(value, Branch):
            for k, v in value:
                descend(v, f"{key}__map_{k}" if key != prefix else f"{key}{k}")
        elif isinstance(value, list):
            for i, v in enumerate(value):
                descend(v, f"{key}__list_{i}")
        else:
            out.append((key, value))

    for k, v in branch:
        descend(v, prefix + str(k))
    return out


def emit_encrypted(tree: Tree, fmt: Format) -> bytes:
    """The encrypted file sops' store for `fmt` writes (`EmitEncryptedFile`)."""
    meta = _metadata_branch(tree.metadata)
    if fmt == "dotenv":
        flat = Branch(tree.branches[0])
        for key, value in _flatten(meta, SOPS_PREFIX):
            flat.append((key, value))
        return _emit_dotenv(flat)
    if fmt == "binary":
        fmt = "json"
    for branch in tree.branches:
        if any(k == METADATA_KEY for k, _ in branch):
            raise SopsError(
                f'Error marshaling metadata: Found key "{METADATA_KEY}" in encrypted data, which is a '
                "reserved key used for SOPS metadata"
            )
    return emit_plain([Branch([*b, (METADATA_KEY, meta)]) for b in tree.branches], fmt)


def format_for_path(path: str) -> Format:
    """sops' `formats.FormatForPath`."""
    if path.endswith((".yaml", ".yml")):
        return "yaml"
    if path.endswith(".json"):
        return "json"
    if path.endswith(".env"):
        return "dotenv"
    if path.endswith(".ini"):
        return "ini"
    return "binary"


# The values.


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> goregexp.GoRegexp | None:
    try:
        return goregexp.compile_go(pattern)
    except goregexp.GoRegexpError:
        return None


def _regexp_match(pattern: str, text: str) -> bool:
    """`regexp.Match(pattern, text)`, an invalid pattern matching nothing (sops ignores the
    error)."""
    compiled = _compiled(pattern)
    return compiled is not None and compiled.search(text) is not None


def should_encrypt(
    rules: Rules, path: Sequence[str], comments: Sequence[Sequence[str]], is_comment: bool
) -> bool:
    """sops' `shouldBeEncrypted`."""
    encrypted = True
    if rules.unencrypted_suffix and any(p.endswith(rules.unencrypted_suffix) for p in path):
        encrypted = False
    if rules.encrypted_suffix:
        encrypted = any(p.endswith(rules.encrypted_suffix) for p in path)
    if rules.unencrypted_regex and any(_regexp_match(rules.unencrypted_regex, p) for p in path):
        encrypted = False
    if rules.encrypted_regex:
        encrypted = any(_regexp_match(rules.encrypted_regex, p) for p in path)
    if rules.unencrypted_comment_regex and any(
        _regexp_match(rules.unencrypted_comment_regex, c) for cs in comments for c in cs
    ):
        encrypted = False
    if rules.encrypted_comment_regex:
        encrypted = False
        last = len(comments) - 1
        for i, cs in enumerate(comments):
            for j, c in enumerate(cs):
                if is_comment and i == last and j == len(comments[last]) - 1:
                    continue
                if _regexp_match(rules.encrypted_comment_regex, c):
                    encrypted = True
    return encrypted


def encrypt_value(value: Any, key: bytes, aad: str, rng: random.Random) -> str:
    """sops' AES-GCM `Cipher.Encrypt` (a fresh IV from `rng`)."""
    if (isinstance(value, (str, bytes)) and not value) or (isinstance(value, Comment) and not value.value):
        return ""
    if isinstance(value, Comment):
        kind, plain = "comment", value.value.encode(errors="surrogateescape")
    elif isinstance(value, bool):
        kind, plain = "bool", b"True" if value else b"False"
    elif isinstance(value, str):
        kind, plain = "str", value.encode(errors="surrogateescape")
    elif isinstance(value, int):
        kind, plain = "int", str(value).encode()
    elif isinstance(value, float):
        kind, plain = "float", go_float(value, "f").encode()
    elif isinstance(value, Timestamp):
        kind, plain = "time", value.text.encode()
    else:
        raise SopsError(f"Value to encrypt has unsupported type {_go_type(value)}")
    iv = rng.randbytes(NONCE_SIZE)
    sealed = _aes(key).encrypt(iv, plain, aad.encode(errors="surrogateescape"))
    data, tag = sealed[:-16], sealed[-16:]
    b64 = base64.b64encode
    return (
        f"ENC[AES256_GCM,data:{b64(data).decode()},iv:{b64(iv).decode()},tag:{b64(tag).decode()},type:{kind}]"
    )


def _aes(key: bytes) -> AESGCM:
    if len(key) not in (16, 24, 32):  # Go's AES takes the three sizes; sops' data keys are 32 bytes
        raise SopsError(f"crypto/aes: invalid key size {len(key)}")
    return AESGCM(key)


def _go_b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        bad = next((i for i, c in enumerate(text) if not (c.isalnum() or c in "+/=")), len(text) - 1)
        raise SopsError(f"Error base64-decoding {what}: illegal base64 data at input byte {bad}") from exc


def decrypt_value(text: str, key: bytes, aad: str) -> Any:
    """sops' AES-GCM `Cipher.Decrypt`: the typed cleartext, SopsError in sops' words."""
    if not text:
        return ""
    found = _ENC.match(text)
    if not found:
        raise SopsError(f"Input string {text} does not match sops' data format")
    data, iv, tag = (_go_b64(found[i], w) for i, w in ((1, "data"), (2, "iv"), (3, "tag")))
    kind = found[4]
    if not iv:
        raise SopsError("cipher: the nonce can't have zero length")
    cipher = _aes(key)
    try:
        plain = cipher.decrypt(iv, data + tag, aad.encode(errors="surrogateescape"))
    except (InvalidTag, ValueError) as exc:
        raise SopsError("Could not decrypt with AES_GCM: cipher: message authentication failed") from exc
    value = plain.decode(errors="surrogateescape")
    if kind == "str":
        return value
    if kind == "int":
        number = _go_int(value) if re.fullmatch(r"[-+]?[0-9]+", value) else None
        if number is None:
            raise SopsError(f'strconv.Atoi: parsing "{value}": invalid syntax')
        return number
    if kind == "float":
        try:
            return float(value)
        except ValueError as exc:
            raise SopsError(f'strconv.ParseFloat: parsing "{value}": invalid syntax') from exc
    if kind == "bytes":
        return plain
    if kind == "bool":
        if value in ("1", "t", "T", "TRUE", "true", "True"):
            return True
        if value in ("0", "f", "F", "FALSE", "false", "False"):
            return False
        raise SopsError(f'strconv.ParseBool: parsing "{value}": invalid syntax')
    if kind == "time":
        stamp = parse_timestamp(value)
        if stamp is None:
            raise SopsError(f'parsing time "{value}" as "2006-01-02T15:04:05Z07:00": cannot parse')
        return stamp
    if kind == "comment":
        return Comment(value)
    raise SopsError(f"Unknown datatype: {kind}")


Leaf = Callable[[Any, list[str], list[list[str]]], Any]


def _walk_value(value: Any, path: list[str], comments: list[list[str]], leaf: Leaf) -> Any:
    if isinstance(value, Branch):
        return _walk_branch(value, path, comments, leaf)
    if isinstance(value, list):
        return _walk_slice(value, path, comments, leaf)
    if value is None:
        return None
    if isinstance(value, bytes):
        return leaf(value.decode(errors="surrogateescape"), path, comments)
    if isinstance(value, (str, int, float, bool, Timestamp, Comment)):
        return leaf(value, path, comments)
    raise SopsError(f"Cannot walk value, unknown type: {_go_type(value)}")


def _walk_slice(items: list[Any], path: list[str], comments: list[list[str]], leaf: Leaf) -> list[Any]:
    comments = [*comments, []]
    for i, value in enumerate(items):
        is_comment = isinstance(value, Comment)
        if is_comment:
            comments[-1].append(value.value)
        items[i] = _walk_value(value, path, comments, leaf)
        if not is_comment:
            comments[-1] = []
    return items


def _walk_branch(branch: Branch, path: list[str], comments: list[list[str]], leaf: Leaf) -> Branch:
    comments = [*comments, []]
    for i, (key, value) in enumerate(branch):
        if isinstance(key, Comment):
            comments[-1].append(key.value)
            done = _walk_value(key, path, comments, leaf)
            branch[i] = (done if isinstance(done, Comment) else Comment(str(done)), value)
            continue
        if not isinstance(key, str):
            raise SopsError(
                f"Tree contains a non-string key (type {_go_type(key)}): {_go_value(key)}. "
                "Only string keys are supported"
            )
        is_comment = isinstance(value, Comment)
        if is_comment:
            comments[-1].append(value.value)
        branch[i] = (key, _walk_value(value, [*path, key], comments, leaf))
        if not is_comment:
            comments[-1] = []
    return branch


def _walk(branches: list[Branch], leaf: Leaf) -> None:
    for branch in branches:
        try:
            _walk_branch(branch, [], [], leaf)
        except SopsError as exc:
            raise SopsError(f"Error walking tree: {exc}") from exc


def _aad(path: Sequence[str]) -> str:
    return ":".join(path) + ":"


def encrypt_tree(branches: list[Branch], rules: Rules, key: bytes, rng: random.Random) -> str:
    """Encrypt the values in place (`Tree.Encrypt`); the MAC of the cleartext, upper-case hex."""
    digest = hashlib.sha512()
    if rules.mac_only_encrypted:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)

    def leaf(value: Any, path: list[str], comments: list[list[str]]) -> Any:
        is_comment = isinstance(value, Comment)
        encrypted = should_encrypt(rules, path, comments, is_comment)
        if (not rules.mac_only_encrypted or encrypted) and not is_comment:
            digest.update(to_bytes(value))
        if not encrypted:
            return value
        try:
            return encrypt_value(value, key, _aad(path), rng)
        except SopsError as exc:
            raise SopsError(f"Could not encrypt value: {exc}") from exc

    _walk(branches, leaf)
    return digest.hexdigest().upper()


def decrypt_tree(branches: list[Branch], rules: Rules, key: bytes) -> str:
    """Decrypt the values in place (`Tree.Decrypt`); the MAC of the cleartext, upper-case hex."""
    digest = hashlib.sha512()
    if rules.mac_only_encrypted:
        digest.update(MAC_ONLY_ENCRYPTED_INIT)

    def leaf(value: Any, path: list[str], comments: list[list[str]]) -> Any:
        is_comment = isinstance(value, Comment)
        encrypted = should_encrypt(rules, path, comments, is_comment)
        out = value
        if encrypted:
            if is_comment:
                try:
                    out = decrypt_value(value.value, key, _aad(path))
                except SopsError:
                    out = value  # a comment that was never encrypted
                if not isinstance(out, Comment):
                    out = Comment(str(out))
            elif isinstance(value, str):
                try:
                    out = decrypt_value(value, key, _aad(path))
                except SopsError as exc:
                    raise SopsError(f"Could not decrypt value: {exc}") from exc
            else:
                raise SopsError(f"Expected encrypted value as string, but got {_go_type(value)}")
        if (not rules.mac_only_encrypted or encrypted) and not is_comment:
            digest.update(to_bytes(out))
        return out

    _walk(branches, leaf)
    return digest.hexdigest().upper()


def check_mac(tree: Tree, key: bytes, computed: str) -> None:
    """sops' integrity check: the stored MAC (decrypted with `lastmodified` as additional data)
    against the one computed over the cleartext; SopsError `MAC mismatch` as `sops decrypt`
    reports it."""
    try:
        stored = decrypt_value(tree.metadata.mac, key, tree.metadata.lastmodified)
    except SopsError as exc:
        raise SopsError(f"failed to verify sops data integrity: {exc}") from exc
    if stored != computed:
        raise SopsError(
            f"failed to verify sops data integrity: expected mac '{stored or 'no MAC'}', got '{computed}'"
        )


# The data key.


def _prefix(text: str, prefix: str) -> str:
    """goware/prefixer: `prefix` before every line."""
    return "".join(prefix + line for line in text.splitlines(keepends=True))


def wrap(text: str, limit: int) -> str:
    """mitchellh/go-wordwrap's `WrapString`: breaks at white space only."""
    out: list[str] = []
    current = 0
    word: list[str] = []
    space: list[str] = []
    for char in text:
        if char == "\n":
            if not word:
                if current + len(space) > limit:
                    current = 0
                else:
                    out.extend(space)
                space = []
            else:
                out.extend(space)
                out.extend(word)
                space, word = [], []
            out.append(char)
            current = 0
        elif char.isspace():
            if not space or word:
                current += len(space) + len(word)
                out.extend(space)
                out.extend(word)
                space, word = [], []
            space.append(char)
        else:
            word.append(char)
            if current + len(space) + len(word) > limit and len(word) < limit:
                out.append("\n")
                current = 0
                space = []
    if not word:
        if current + len(space) <= limit:
            out.extend(space)
    else:
        out.extend(space)
        out.extend(word)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _KeyFailure:
    """A master key no key service could use (`decryptKeyError`)."""

    name: str
    errors: tuple[str, ...]

    def user(self) -> str:
        messages = []
        for err in self.errors:
            wrapped = _prefix(wrap(err, 60), "  | ")
            messages.append("-" + wrapped[1:])
        return f"{self.name}: FAILED\n" + _prefix("\n\n".join(messages), "  ")


@dataclass(frozen=True, slots=True)
class DataKeyError:
    """sops' `getDataKeyError`: which groups failed and why."""

    threshold: int
    groups: tuple[tuple[_KeyFailure, ...] | None, ...]
    """Per group: None when it succeeded, else the keys that failed."""

    def error(self) -> str:
        ok = sum(g is None for g in self.groups)
        return f"Error getting data key: {self.threshold} successful groups required, got {ok}"

    def user(self) -> str:
        parts = []
        for i, group in enumerate(self.groups):
            if group is None:
                parts.append(f"Group {i}: SUCCESS")
                continue
            body = "\n\n".join(k.user() for k in group)
            parts.append(f"Group {i}: FAILED\n" + _prefix(body, "  "))
        if self.threshold == 0:
            trailer = (
                "Recovery failed because no master key was able to decrypt the file. In order for SOPS "
                "to recover the file, at least one key has to be successful, but none were."
            )
        else:
            ok = sum(g is None for g in self.groups)
            trailer = (
                "Recovery failed because the file was encrypted with a Shamir threshold of "
                f"{self.threshold}, but only {ok} part(s) were successfully recovered, one for each "
                f"successful key group. In order for SOPS to recover the file, at least {self.threshold} "
                "groups have to be successful. In order for a group to be successful, decryption has to "
                "succeed with any of the keys in that key group."
            )
        return (
            "Failed to get the data key required to decrypt the SOPS file.\n\n"
            + "\n\n".join(parts)
            + "\n\n"
            + wrap(trailer, 75)
        )


@dataclass(frozen=True, slots=True)
class Keys:
    """What a key service holds to unwrap data keys: age identities (other master key types are
    not simulated)."""

    identities: tuple[age.Identity, ...] = ()
    no_age_identities: str = "failed to load age identities"
    """age's error when there are no identities (sops then looks in the environment)."""

    def unwrap(self, key: MasterKey) -> bytes:
        if key.kind != "age":
            kind = _KIND_NAMES.get(key.kind, key.kind)
            raise SopsError(f"{kind} master keys are not simulated by gitops-sim")
        if not self.identities:
            raise SopsError(self.no_age_identities)
        try:
            return age.decrypt(key.enc, self.identities)
        except age.AgeError as exc:
            raise SopsError(f"failed to create reader for decrypting sops data key with age: {exc}") from exc


_KIND_NAMES = {
    "pgp": "PGP",
    "kms": "AWS KMS",
    "gcp_kms": "GCP KMS",
    "azure_kv": "Azure Key Vault",
    "hc_vault": "HashiCorp Vault",
    "hckms": "HuaweiCloud KMS",
}


def data_key(metadata: Metadata, keys: Keys) -> bytes:
    """The file's data key (`GetDataKeyWithKeyServices`, age tried before PGP before the rest)."""
    if len(metadata.key_groups) > 1:
        raise Unsupported(
            "files with several key groups (Shamir secret sharing) are not simulated by gitops-sim"
        )
    results: list[tuple[_KeyFailure, ...] | None] = []
    found: bytes | None = None
    for group in metadata.key_groups:
        order = {kind: i for i, kind in enumerate(DECRYPTION_ORDER)}
        failures = []
        for key in sorted(group, key=lambda k: order.get(k.kind, len(order))):
            try:
                found = keys.unwrap(key)
                break
            except SopsError as exc:
                failures.append(_KeyFailure(key.name, (exc.message,)))
        results.append(None if found is not None else tuple(failures))
    if found is None:
        err = DataKeyError(metadata.shamir_threshold, tuple(results))
        raise SopsError(err.error(), user=err.user())
    return found


# Encryption, as `sops encrypt` does it.


def encrypt(
    data: bytes,
    fmt: Format,
    recipients: Sequence[age.Recipient],
    *,
    rules: Rules,
    rng: random.Random,
    lastmodified: str,
    version: str = VERSION,
) -> bytes:
    """`sops encrypt --age <recipients>` of a cleartext file: a data key and IVs from `rng`
    (seeded: the result protects nothing), `lastmodified` given (RFC 3339)."""
    rules = rules.checked()
    branches = load_plain(data, fmt)
    if fmt == "yaml" and (rules.encrypted_comment_regex or rules.unencrypted_comment_regex):
        raise Unsupported(
            "comment rules in YAML files are not simulated by gitops-sim (YAML comments are dropped)"
        )
    if branches and (
        any(k == METADATA_KEY for k, _ in branches[0])
        if fmt != "dotenv"
        else any(isinstance(k, str) and k.startswith(SOPS_PREFIX) for k, _ in branches[0])
    ):
        raise SopsError("File already encrypted")
    key = rng.randbytes(32)
    wrapped = tuple(MasterKey("age", str(r), age.encrypt(key, [r], rng)) for r in recipients)
    if not wrapped:
        raise SopsError("no key groups provided")
    mac = encrypt_tree(branches, rules, key, rng)
    stamp = rfc3339(lastmodified)
    metadata = Metadata(
        key_groups=(wrapped,),
        lastmodified=stamp,
        mac=encrypt_value(mac, key, stamp, rng),
        rules=rules,
        version=version,
    )
    return emit_encrypted(Tree(branches, metadata), fmt)


def decrypt(data: bytes, fmt_in: Format, fmt_out: Format, keys: Keys, *, verify: bool = True) -> bytes:
    """`sops decrypt`: the cleartext file; with `verify` the MAC is checked (sops' default)."""
    tree = load_encrypted(data, fmt_in)
    if fmt_in == "yaml" and (
        tree.metadata.rules.encrypted_comment_regex or tree.metadata.rules.unencrypted_comment_regex
    ):
        raise Unsupported(
            "comment rules in YAML files are not simulated by gitops-sim (YAML comments are dropped)"
        )
    key = data_key(tree.metadata, keys)
    mac = decrypt_tree(tree.branches, tree.metadata.rules, key)
    if verify:
        check_mac(tree, key, mac)
    return emit_plain(tree.branches, fmt_out)

"""A HelmRelease's values, composed as helm-controller composes them, and their config digest.

`compose(namespace, values, refs, read)` resolves `spec.valuesFrom` in order and merges
`spec.values` over the result, exactly as fluxcd/pkg `chartutil.ChartValuesFromReferences` does:

- each reference reads a ConfigMap's or Secret's `data` (`read(kind, namespace, name)`; each
  object is read once per composition, so every reference to it sees one version), at
  `valuesKey` (`values.yaml` when omitted);
- a missing object or key is skipped when the reference is `optional` (the skip is reported in
  `Composed.skipped`, the words helm-controller logs), and otherwise fails with Flux's message:
  `could not resolve [optional ]<Kind> chart values reference '<ns>/<name>' with key '<key>':
  <reason>` (the reason is the API server's `configmaps "x" not found`, `resource not found`
  when an earlier reference already found the object missing, `key not found`, Helm's YAML
  error, or Helm's `--set` parser error);
- without `targetPath` the content is YAML (read by Helm's own `ReadValues`, in the Go SDK) merged
  at the root; with `targetPath` the values merged so far get `spec.values` merged in first, then
  the content is written at the path with Helm's `--set` parser (`strvals.ParseInto`; a value in
  single or double quotes is unquoted and kept a string, `ParseIntoString`), and with `literal`
  it is escaped first so that it stays one verbatim string;
- `spec.values` is merged last.

The merge is `chartutil.MergeMaps`: maps merge key by key, anything else (lists, scalars, null)
replaces. A null is kept here; Helm drops it (and the chart default it names) only when it
coalesces the values with the chart's own, at render time.

IMPLEMENTATION DETAIL:
    Problem: whether a `targetPath` value survives the final merge of `spec.values` depends on
    Go's map aliasing. `MergeMaps` copies only the top level, so a nested map taken from
    `spec.values` is shared with the result; `ParseInto` writes into that shared map, so the
    value lands in `spec.values` too and the final merge keeps it. A top-level key, or a map the
    earlier references had already started, is a fresh copy: there `spec.values` wins.
    Solution: the same data flow with Python's references: `spec.values` is deep-copied once
    (Go decodes it afresh per reconcile), `merge_maps` shares nested maps as Go does, and the
    `--set` parser below (`parse_into`) writes into existing maps and lists in place, growing a
    list by copying it as Go's `setIndex` does. helm_python's `parse_set_*` only parse into a new
    map, so they cannot be used for this; the tests check this parser against them.

`digest(values)` is `chartutil.DigestValues(digest.Canonical, values)`, the
`lastAttemptedConfigDigest` and a history snapshot's `configDigest`: `sha256:` and the hex SHA-256
of the values as go-yaml v2 encodes them after `JSONObjectToYAMLObject` and `SortMapSlice` (keys
sorted bytewise at every depth, lists in order, whole floats written as integers, other floats in
Go's shortest `%g`, strings quoted where go-yaml v2 would resolve them to another type, multi-line
strings in literal style, lines folded at 80 columns). The encoding goes through libyaml's
emitter, the C original of go-yaml's `emitterc.go`. Empty values digest the empty input.

`validate_schema(chart, values)` checks the values against the chart's `values.schema.json` with
Helm's own validator (`helm_python.Chart.validate_schema`, which coalesces the chart defaults
first, as Helm's install and upgrade do) and fails with Helm's words, prefixed as
`ToRenderValuesWithSchemaValidation` prefixes them.

Provenance (behaviour learned, no code copied): fluxcd/pkg `chartutil/values.go`
(ChartValuesFromReferences, ErrValuesReference, ReplacePathValue, ReplacePathLiteralValue),
`merge.go`, `digest.go`, `encode.go`, `sort.go` (chartutil v1.27); helm/helm v4
`pkg/strvals/parser.go`, `pkg/chart/common/values.go` (ReadValues),
`pkg/chart/common/util/values.go`; sigs.k8s.io/yaml `JSONObjectToYAMLObject`; go-yaml v2.4
`encode.go`; fluxcd/helm-controller `internal/controller/helmrelease_controller.go` (the
`ValuesError` reason and where the digest is recorded).

Callers: the HelmRelease controller (values step: Ready=False `ValuesError` with the message,
a Warning event of that reason, and a retry with backoff, since the error is returned) and the
local `flux build helmrelease` command (with a reader over files). It never reads a cluster
itself (the caller's reader does; `cluster_reader` adapts a `Cluster`), never writes anything,
and never reads the time or the environment.

Differences, on purpose:
- Go decodes every JSON or YAML number as float64; Python keeps integers exact. Numbers above
  2^53 therefore keep digits Go would round, and a type named in a `--set` parser error is
  `float64` for any number that was already in the values (Go says `int64` when the number came
  from an earlier `--set`).
- A YAML key longer than 128 characters and other corners where libyaml and go-yaml's port of
  it differ may encode (and so digest) differently.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

import yaml

from gitops_sim.cluster import errors
from gitops_sim.model import refs, yamlsafe
from gitops_sim.model.fluxapi import meta
from gitops_sim.model.semver import go_quote

REASON = "ValuesError"
"""The Ready=False reason (and Warning event reason) helm-controller gives a values failure."""
DEFAULT_VALUES_KEY = "values.yaml"
SCHEMA_ERROR_PREFIX = "values don't meet the specifications of the schema(s) in the following chart(s):\n"

Reader = Callable[[str, str, str], "Mapping[str, str | bytes] | None"]
"""`read(kind, namespace, name)`: the `data` of that ConfigMap or Secret (a Secret's values
decoded from base64), or None when it does not exist. It may raise `errors.ApiError` for any
other failure; its message becomes the ValuesError message, as Flux returns the client's error."""

Algorithm = Literal["sha256", "sha384", "sha512"]


class ValuesError(Exception):
    """Composing the values failed: Ready=False `ValuesError` with `message` in helm-controller."""

    reason = REASON

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SchemaError(Exception):
    """The values break the chart's `values.schema.json`: Helm's message, which helm-controller
    puts after `Helm install failed for release …:` (or upgrade)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class SetError(Exception):
    """Helm's `--set` parser refused an expression; `str()` is Helm's message."""


@dataclass(frozen=True, slots=True)
class Composed:
    """The composed values, and the optional references skipped on the way (Flux's log lines)."""

    values: dict[str, Any]
    skipped: tuple[str, ...] = ()


# --- composition -------------------------------------------------------------------------------


def reference_error(
    ref: meta.ValuesReference, namespace: str, reason: str, *, optional: bool | None = None
) -> str:
    """`ErrValuesReference.Error()`: Flux's words for a reference that could not be resolved."""
    is_optional = ref.optional if optional is None else optional
    words = "could not resolve" + (" optional" if is_optional else "")
    words += f" {ref.kind} chart values reference '{namespace}/{ref.name}'"
    words += f" with key '{ref.values_key or DEFAULT_VALUES_KEY}'"
    return f"{words}: {reason}"


def not_found_message(kind: str, name: str) -> str:
    """The API server's NotFound message for a ConfigMap or Secret."""
    return f'{kind.lower()}s "{name}" not found'


def compose(
    namespace: str,
    values: Mapping[str, Any] | None,
    refs_: Sequence[meta.ValuesReference] | None,
    read: Reader,
) -> Composed:
    """`spec.valuesFrom` resolved in order with `read`, then `spec.values` merged over them.

    Raises `ValuesError` with Flux's message. `values` is not modified."""
    own: dict[str, Any] = copy.deepcopy(dict(values)) if values else {}
    result: dict[str, Any] = {}
    seen: dict[tuple[str, str], Mapping[str, str | bytes] | None] = {}
    skipped: list[str] = []
    for ref in refs_ or ():
        key = ref.values_key or DEFAULT_VALUES_KEY
        index = (ref.kind, ref.name)
        if index not in seen:
            seen[index] = None
            try:
                found = read(ref.kind, namespace, ref.name)
            except errors.NotFound as exc:
                found, message = None, exc.message
            except errors.ApiError as exc:
                raise ValuesError(exc.message) from None
            else:
                message = not_found_message(ref.kind, ref.name)
            if found is None:
                text = reference_error(ref, namespace, message)
                if not ref.optional:
                    raise ValuesError(text)
                skipped.append(text)
                continue
            seen[index] = found
        data = seen[index]
        if data is None:
            if ref.optional:
                continue
            raise ValuesError(reference_error(ref, namespace, "resource not found"))
        if key not in data:
            text = reference_error(ref, namespace, "key not found")
            if not ref.optional:
                raise ValuesError(text)
            skipped.append(text)
            continue
        raw = data[key]
        content = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if ref.target_path:
            result = merge_maps(result, own)
            try:
                if ref.literal:
                    replace_path_literal(result, ref.target_path, content)
                else:
                    replace_path(result, ref.target_path, content)
            except SetError as exc:
                raise ValuesError(reference_error(ref, namespace, str(exc))) from None
            continue
        try:
            read_values = _read_values(content)
        except _HelmValuesError as exc:
            raise ValuesError(reference_error(ref, namespace, exc.message)) from None
        result = merge_maps(result, read_values)
    return Composed(merge_maps(result, own), tuple(skipped))


def merge_maps(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """`chartutil.MergeMaps`: `b` over `a`; maps present in both merge, anything else from `b`
    replaces. Only the top level and the maps merged are new: other nested values are shared."""
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict):
            existing = out.get(key)
            if isinstance(existing, dict):
                out[key] = merge_maps(existing, value)
                continue
        out[key] = value
    return out


def replace_path(values: dict[str, Any], path: str, value: str) -> None:
    """`chartutil.ReplacePathValue`: `path=value` parsed into `values` by Helm's `--set` parser;
    a value quoted with `'` or `"` at both ends is unquoted and kept a string."""
    quoted = (value.startswith("'") and value.endswith("'")) or (
        value.startswith('"') and value.endswith('"')
    )
    if quoted:
        parse_into(f"{path}={value.strip(chr(39) + chr(34))}", values, strings=True)
    else:
        parse_into(f"{path}={value}", values)


_LITERAL_ESCAPES = str.maketrans({c: "\\" + c for c in "\\,[]{}"})


def replace_path_literal(values: dict[str, Any], path: str, value: str) -> None:
    """`chartutil.ReplacePathLiteralValue`: `value` written at `path` as one verbatim string."""
    parse_into(f"{path}={value.translate(_LITERAL_ESCAPES)}", values, strings=True)


class _HelmValuesError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _read_values(text: str) -> dict[str, Any]:
    """Helm's `common.ReadValues` (sigs.k8s.io/yaml, in the Go SDK): its values or its error."""
    import helm_python as helm  # the Go SDK loads on first use

    try:
        found: dict[str, Any] = helm.values_from_yaml(text)
    except helm.HelmValuesError as exc:
        raise _HelmValuesError(str(exc)) from None
    return found


class _Getter(Protocol):
    """What `cluster_reader` needs of a cluster (`cluster.backend.Cluster` has it)."""

    def get(self, ref: refs.ObjectRef) -> Any: ...


def cluster_reader(cluster: _Getter) -> Reader:
    """A `Reader` over a cluster: a ConfigMap's `data`, a Secret's `data` decoded; None when the
    object does not exist (other API errors propagate)."""

    def read(kind: str, namespace: str, name: str) -> Mapping[str, str | bytes] | None:
        try:
            obj = cluster.get(refs.ObjectRef("", kind, namespace, name))
        except errors.NotFound:
            return None
        data: Mapping[str, str] = obj.get("data") or {}
        if kind == "Secret":
            return {k: base64.b64decode(v) for k, v in data.items()}
        return dict(data)

    return read


# --- Helm's --set parser (strvals), writing into existing values ------------------------------

MAX_INDEX = 65536
MAX_NESTED_NAME_LEVEL = 30


class _Panic(Exception):
    """A Go runtime panic inside the parser (a failed type assertion), recovered by `key`."""


def _go_type(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "[]interface {}"
    return "map[string]interface {}"


def _assertion(value: Any, wanted: str) -> _Panic:
    return _Panic(f"interface conversion: interface {{}} is {_go_type(value)}, not {wanted}")


_GO_DECIMAL = re.compile(r"[+-]?[0-9]+\Z")
_INT64 = range(-(2**63), 2**63)


def _atoi(text: str) -> int:
    if not _GO_DECIMAL.match(text):
        raise SetError(f"error parsing index: strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    number = int(text)
    if number not in _INT64:
        raise SetError(f"error parsing index: strconv.Atoi: parsing {go_quote(text)}: value out of range")
    return number


def typed_value(text: str, strings: bool = False) -> Any:
    """strvals `typedVal`: true/false/null (any case), 0, and integers not starting with 0 are
    typed; the rest (and everything when `strings`) stays a string."""
    if strings:
        return text
    folded = text.lower() if text.isascii() else None
    if folded == "true":
        return True
    if folded == "false":
        return False
    if folded == "null":
        return None
    if text == "0":
        return 0
    if text and text[0] != "0" and _GO_DECIMAL.match(text):
        number = int(text)
        if number in _INT64:
            return number
    return text


class _Parser:
    """One `--set` expression read into existing data, as strvals' parser reads it.

    Each method returns True when it met the end of the input (Go's io.EOF, which ends parsing
    without error) and raises `SetError` for Helm's errors."""

    def __init__(self, text: str, strings: bool) -> None:
        self.text = text
        self.pos = 0
        self.strings = strings

    def until(self, stop: str) -> tuple[str, str | None]:
        chars: list[str] = []
        text, pos = self.text, self.pos
        while pos < len(text):
            ch = text[pos]
            pos += 1
            if ch in stop:
                self.pos = pos
                return "".join(chars), ch
            if ch == "\\":
                if pos >= len(text):
                    break
                ch = text[pos]
                pos += 1
            chars.append(ch)
        self.pos = pos
        return "".join(chars), None

    def parse(self, data: dict[str, Any]) -> None:
        while not self.key(data, 0):
            pass

    def key(self, data: dict[str, Any], level: int) -> bool:
        try:
            return self._key(data, level)
        except _Panic as exc:
            raise SetError(f"unable to parse key: {exc}") from None

    def _key(self, data: dict[str, Any], level: int) -> bool:
        k, last = self.until("=[,.")
        if last is None:
            if not k:
                return True
            raise SetError(f"key {go_quote(k)} has no value")
        if last == "[":
            index = self.index()
            if index is None:
                return True
            items: list[Any] = []
            if k in data:
                if not isinstance(data[k], list):
                    raise _assertion(data[k], "[]interface {}")
                items = data[k]
            items, eof = self.list_item(items, index, level)
            _set(data, k, items)
            return eof
        if last == "=":
            return self.assign(lambda value: _set(data, k, value))
        if last == ",":
            _set(data, k, "")
            raise SetError(f"key {go_quote(k)} has no value (cannot end with ,)")
        level += 1
        if level > MAX_NESTED_NAME_LEVEL:
            raise SetError(
                "value name nested level is greater than maximum supported nested level of "
                f"{MAX_NESTED_NAME_LEVEL}"
            )
        inner: dict[str, Any] = {}
        if k in data:
            if not isinstance(data[k], dict):
                raise _assertion(data[k], "map[string]interface {}")
            inner = data[k]
        eof = self.key(inner, level)
        if not eof and not inner:
            raise SetError(f"key map {go_quote(k)} has no value")
        if inner:
            _set(data, k, inner)
        return eof

    def assign(self, put: Callable[[Any], None]) -> bool:
        """The value after `=`: a `{a,b}` list, else everything up to the next `,`."""
        if self.pos >= len(self.text):
            put("")
            return True
        if self.text[self.pos] == "{":
            self.pos += 1
            put(self.value_list())
            return False
        text, _ = self.until(",")
        put(typed_value(text, self.strings))
        return False

    def value_list(self) -> list[Any]:
        items: list[Any] = []
        while True:
            text, last = self.until(",}")
            if last is None:
                raise SetError("list must terminate with '}'")
            items.append(typed_value(text, self.strings))
            if last == "}":
                if self.pos < len(self.text) and self.text[self.pos] == ",":
                    self.pos += 1
                return items

    def index(self) -> int | None:
        text, last = self.until("]")
        if last is None:
            return None
        return _atoi(text)

    def list_item(self, items: list[Any], i: int, level: int) -> tuple[list[Any], bool]:
        if i < 0:
            raise SetError(f"negative {i} index not allowed")
        k, last = self.until("[.=")
        if k:
            raise SetError(f"unexpected data at end of array index: {_go_runes(k)}")
        if last is None:
            return items, True
        if last == "=":
            box: list[list[Any]] = []
            self.assign(lambda value: box.append(_set_index(items, i, value)))
            return box[0], False
        if last == "[":
            nested_index = self.index()
            if nested_index is None:
                return items, True
            current: list[Any] = []
            if len(items) > i and items[i] is not None:
                if not isinstance(items[i], list):
                    raise _assertion(items[i], "[]interface {}")
                current = items[i]
            nested, eof = self.list_item(current, nested_index, level)
            if eof:
                return items, True
            return _set_index(items, i, nested), False
        inner: dict[str, Any] = {}
        if len(items) > i:
            if not isinstance(items[i], dict):
                items[i] = {}
            inner = items[i]
        if self.key(inner, level):
            return items, True
        return _set_index(items, i, inner), False


def _go_runes(text: str) -> str:
    """Go's `%q` of a `[]rune`: each rune quoted, in brackets."""
    return "[" + " ".join(_go_rune(ch) for ch in text) + "]"


def _go_rune(ch: str) -> str:
    if ch == "'":
        return "'\\''"
    inner = go_quote(ch)[1:-1]
    return "'" + ('"' if inner == '\\"' else inner) + "'"


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    if key:
        data[key] = value


def _set_index(items: list[Any], index: int, value: Any) -> list[Any]:
    if index < 0:
        raise SetError(f"negative {index} index not allowed")
    if index > MAX_INDEX:
        raise SetError(f"index of {index} is greater than maximum supported index of {MAX_INDEX}")
    if len(items) <= index:
        items = [*items, *([None] * (index + 1 - len(items)))]
    items[index] = value
    return items


def parse_into(expression: str, data: dict[str, Any], *, strings: bool = False) -> None:
    """strvals `ParseInto` (or `ParseIntoString` when `strings`): `expression` written into `data`
    in place. Raises `SetError` with Helm's message."""
    _Parser(expression, strings).parse(data)


# --- the config digest -------------------------------------------------------------------------


def digest(values: Mapping[str, Any] | None, algorithm: Algorithm = "sha256") -> str:
    """`chartutil.DigestValues`: `<algorithm>:<hex>` of the values' canonical YAML."""
    hasher = hashlib.new(algorithm)
    if values:
        hasher.update(canonical_yaml(values).encode("utf-8"))
    return f"{algorithm}:{hasher.hexdigest()}"


def verify(expected: str, values: Mapping[str, Any] | None) -> bool:
    """`chartutil.VerifyValues`: whether `expected` is a well-formed digest of these values."""
    algorithm, _, hexdigest = expected.partition(":")
    if algorithm not in ("sha256", "sha384", "sha512"):
        return False
    size = hashlib.new(algorithm).digest_size * 2
    if len(hexdigest) != size or not re.fullmatch(r"[0-9a-f]+", hexdigest):
        return False
    return digest(values, algorithm) == expected  # type: ignore[arg-type]


def canonical_yaml(values: Mapping[str, Any]) -> str:
    """The values as `chartutil.Encode(…, SortMapSlice)` writes them (go-yaml v2)."""
    events = [
        yaml.StreamStartEvent(),
        yaml.DocumentStartEvent(explicit=False),
        *_events(values),
        yaml.DocumentEndEvent(explicit=False),
        yaml.StreamEndEvent(),
    ]
    dumper = getattr(yaml, "CDumper", yaml.Dumper)
    text: str = yaml.emit(events, Dumper=dumper, allow_unicode=True)
    return text


def _events(value: Any) -> Iterator[yaml.Event]:
    if isinstance(value, Mapping):
        yield yaml.MappingStartEvent(None, None, True, flow_style=False)
        for key in sorted(value):
            yield _string(str(key))
            yield from _events(value[key])
        yield yaml.MappingEndEvent()
    elif isinstance(value, list | tuple):
        yield yaml.SequenceStartEvent(None, None, True, flow_style=False)
        for item in value:
            yield from _events(item)
        yield yaml.SequenceEndEvent()
    elif isinstance(value, str):
        yield _string(value)
    else:
        yield yaml.ScalarEvent(None, None, (True, True), _scalar(value), style=None)


def _string(text: str) -> yaml.ScalarEvent:
    """go-yaml v2 `stringv`: literal style for multi-line text, double quotes for text that
    would read back as another type (or a base-60 float), plain otherwise (the emitter may still
    quote it)."""
    if "\n" in text:
        style: str | None = "|"
    elif yamlsafe.resolve(text)[0] != yamlsafe.STR or _BASE60.match(text):
        style = '"'
    else:
        style = None
    return yaml.ScalarEvent(None, None, (True, True), text, style=style)


_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?\Z")


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return go_float(value)
    return str(value)


def go_float(value: float) -> str:
    """A float as `JSONObjectToYAMLObject` and go-yaml v2 write it: whole numbers in int64 range
    as integers, others as Go's `strconv.FormatFloat(v, 'g', -1, 64)`."""
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    if value.is_integer() and -(2**63) <= value < 2**64:
        return str(int(value))
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits)).rstrip("0") or "0"
    point = len(digits) + exponent  # digits before the decimal point
    exp = point - 1
    text = "-" if sign else ""
    if exp < -4 or exp >= 6:  # 'g' with the shortest digits decides at precision 6
        rest = mantissa[1:]
        text += mantissa[0] + ("." + rest if rest else "")
        return text + f"e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return text + "0." + "0" * -point + mantissa
    if point >= len(mantissa):
        return text + mantissa + "0" * (point - len(mantissa))
    return text + mantissa[:point] + "." + mantissa[point:]


# --- values.schema.json ------------------------------------------------------------------------


class _SchemaChart(Protocol):
    def validate_schema(self, values: dict[str, Any] | None = None) -> None: ...


def validate_schema(chart: _SchemaChart, values: Mapping[str, Any]) -> None:
    """Helm's schema check of the values (coalesced with the chart's defaults) against the chart's
    `values.schema.json` and its sub-charts'. Raises `SchemaError` with Helm's message."""
    import helm_python as helm  # the Go SDK loads on first use

    try:
        chart.validate_schema(copy.deepcopy(dict(values)))
    except helm.HelmValuesError as exc:
        raise SchemaError(SCHEMA_ERROR_PREFIX + str(exc)) from None

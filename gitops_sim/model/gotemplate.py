"""Go's `text/template`, with Sprig's hermetic functions, as image-automation-controller renders
its commit messages.

`parse(text, name, funcs)` reads a template as Go's `text/template/parse` does (`funcs`, Sprig's
hermetic functions unless given, are the names a template may call) and raises
`TemplateError` with Go's words (`template: NAME:LINE: unexpected "}" in operand`);
`Template.execute(data)` runs it as `text/template` executes it, and raises Go's execution errors
(`template: NAME:LINE:COL: executing "NAME" at <.Updated>: can't evaluate field Updated in type
source.TemplateData`). `HERMETIC_FUNCS` is Sprig's `HermeticTxtFuncMap()` (the functions a
template can call besides Go's builtins); a name left out of it fails to parse with
`function "now" not defined`, as it does in Flux.

Go values in Python (the data model):
    str, int, float (float64), bool, None (nil), list/tuple ([]interface {}), dict
    (map[string]interface {}); `Int64` (Sprig's arithmetic returns int64, which Go will not pass
    where an int is wanted); `GoMap` (a map with a Go type name, its key type and its element's
    zero value: `map[string]string`, `update.ObjectChanges`); `GoStruct` (a struct value: Go type
    name, ordered fields, embedded fields promoted as Go promotes them, methods called with the
    receiver first, and a `String()` used by print). A GoStruct is hashable and ordered field by
    field (Go's fmtsort), so it can be a map key.

IMPLEMENTATION DETAIL:
    Problem: Go templates are typed by reflection: argument conversion, `<no value>` for a missing
    map key against `<nil>` for a nil interface, method calls, promoted fields, sorted map
    ranges and fmt's printing all depend on Go types that Python values do not carry.
    Solution: a lexer and parser written after Go's (same tokens, same error texts, same
    variable scoping), an evaluator that keeps Go's "invalid value" (`MISSING`) apart from nil,
    functions declared with their Go parameter types (`GoFunc`) so that arguments are checked and
    converted as `evalArg`/`validateType` do, and a small `fmt` (`%v`, `Sprint`, `Sprintf`).

Fidelity and known gaps:
    - Exact: the parse errors (lexer errors, `unexpected X in Y`, `function "f" not defined`,
      `undefined variable "$x"`, `missing value for command`, `unexpected EOF`, `{{break}}
      outside {{range}}`), field and method errors (`can't evaluate field`, `nil pointer
      evaluating`, `has arguments but cannot be invoked as function`), argument errors (`wrong
      number of args for f: want N got M`, `expected string; found 3`, `wrong type for value;
      expected string; got int`, `invalid value; expected string`), `error calling index: index
      out of range: N`, the comparison errors, and the error location (`NAME:LINE:COL`, COL the
      byte offset in the line, as Go's `ErrorContext` counts it).
    - Also as Go does: a field or method is found at the shallowest depth of embedding (two at
      the same depth: not found); the column of an error in a chain `.A.B` is that of `.B`,
      where Go's parser puts the chain; `executing "NAME"` names the defined template that
      failed, the location the parsed text; a template's data of None is Go's nil data (`.`
      prints `<no value>`).
    - Approximate: `eq`/`and`/`or`/`not` given a missing map key treat it as nil (Go's newer
      releases do the same); ranging over None runs no iteration (Go does so for a nil map or
      slice, but fails on a nil interface, which we cannot tell apart); a Python callable
      passed as a function or a `GoStruct` method takes any arguments; the
      nesting limit is ours (`exceeded maximum template depth (100)`, Go allows 100000);
      `printf` knows the verbs `v s q d x X o b c U e E f F g G t T %` and flags `+-# 0`, not
      explicit argument indexes; strings are sliced by code point where Go slices bytes
      (`substr`, `trunc`), which differs only for non-ASCII text; `b64dec`'s error offset.
    - Sprig: `keys`/`values` return sorted keys (Go's map order is random); `toJson` names
      struct fields by their Go names (no json tags); `merge` follows mergo for maps of maps;
      left out: `shuffle` (random), the date functions that remain in the hermetic map, the
      crypto and certificate functions, `urlParse`/`urlJoin`, `semver`, the decimal `*f`
      arithmetic (`addf`...), `swapcase`, `abbrevboth`, `dig`, `chunk`, `deepCopy`. Using one
      fails with `function "NAME" not defined`.

Provenance: behaviour learned from Go's text/template (parse/lex.go, parse/parse.go, exec.go,
funcs.go), fmt and strconv, Sprig v3.3.0 (functions.go, strings.go, list.go, dict.go,
defaults.go, numeric.go, regex.go) and huandu/xstrings (convert.go), as image-automation-
controller v1 calls them (internal/source/source.go `templateMsg`). Our own code.

Callers: the image automation (commit message templates). Pure: no I/O, no clock, no randomness.
It must never read the environment (Sprig's `env`/`expandenv` are not here).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import unicodedata
import urllib.parse
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, NoReturn

from gitops_sim.model import goregexp, semver

# ---------------------------------------------------------------------------------------------
# Go values


class TemplateError(Exception):
    """A parse or execution error, worded as Go's text/template words it."""


class Int64(int):
    """A Go int64 (Sprig's arithmetic returns int64; Go will not pass one where an int is wanted)."""

    __slots__ = ()


class _Missing:
    """Go's invalid reflect.Value: what a missing map key evaluates to (prints `<no value>`)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"


MISSING: Any = _Missing()
_NO_FINAL: Any = object()  # no value piped in (Go's missingVal)


class GoMap(dict[Any, Any]):
    """A Go map with a type: `type_name` as Go prints it, its key type (`string` lets `.Key`
    reach an entry), and its element's zero value (what `index` gives for a missing key)."""

    __slots__ = ("key_type", "type_name", "zero")

    def __init__(
        self,
        type_name: str,
        items: Mapping[Any, Any] | Iterable[tuple[Any, Any]] = (),
        *,
        key_type: str = "string",
        zero: Any = None,
    ) -> None:
        super().__init__(items)
        self.type_name = type_name
        self.key_type = key_type
        self.zero = zero


Method = Callable[..., Any]  # called as method(receiver, *args)


@dataclass(frozen=True, slots=True)
class GoStruct:
    """A Go struct value. `fields` in declaration order; `embedded` names the fields that are
    embedded structs (their fields and methods are promoted, shallowest first, as in Go);
    `methods` are called with the receiver first. A "String" method is Go's Stringer."""

    type_name: str
    fields: tuple[tuple[str, Any], ...]
    embedded: frozenset[str] = frozenset()
    methods: tuple[tuple[str, Method], ...] = field(default=(), compare=False)

    @classmethod
    def of(
        cls,
        type_name: str,
        fields: Mapping[str, Any],
        *,
        embedded: Iterable[str] = (),
        methods: Mapping[str, Method] | None = None,
        string: Callable[[GoStruct], str] | None = None,
    ) -> GoStruct:
        named = dict(methods or {})
        if string is not None:
            named["String"] = string
        return cls(type_name, tuple(fields.items()), frozenset(embedded), tuple(named.items()))

    def get(self, name: str) -> Any:
        """The value of a field declared directly on this struct (KeyError when absent)."""
        for key, value in self.fields:
            if key == name:
                return value
        raise KeyError(name)

    def __lt__(self, other: GoStruct) -> bool:
        return _sort_key(self) < _sort_key(other)


_NOT_FOUND: Any = object()


def _select(struct: GoStruct, name: str) -> tuple[bool, Any, GoStruct | None]:
    """Go's selector rule: the field or method named `name` at the shallowest depth of embedding,
    if it is the only one there. Returns (is_method, value, the struct holding it); value is
    _NOT_FOUND when there is none, or more than one at that depth."""
    if not struct.embedded:  # the common case: no promotion
        for key, method in struct.methods:
            if key == name:
                return True, method, struct
        for key, value in struct.fields:
            if key == name:
                return False, value, struct
        return False, _NOT_FOUND, None
    level = [struct]
    while level:
        hits: list[tuple[bool, Any, GoStruct]] = []
        deeper: list[GoStruct] = []
        for item in level:
            for key, method in item.methods:
                if key == name:
                    hits.append((True, method, item))
            embedded = item.embedded
            for key, value in item.fields:
                if key == name:
                    hits.append((False, value, item))
                elif key in embedded and isinstance(value, GoStruct):
                    deeper.append(value)
        if len(hits) == 1:
            return hits[0]
        if hits:
            return False, _NOT_FOUND, None
        level = deeper
    return False, _NOT_FOUND, None


def _stringer(value: GoStruct) -> bool:
    """Whether the value has a String() method (its own or promoted): fmt's Stringer."""
    if not value.methods and not value.embedded:
        return False
    is_method, _, _ = _select(value, "String")
    return is_method


def _stringify(value: GoStruct) -> str:
    _, method, holder = _select(value, "String")
    return str(method(holder))


def go_type(value: Any) -> str:
    """The Go type of a value, as `%T` prints it."""
    if value is None or value is MISSING:
        return "<nil>"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, Int64):
        return "int64"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, GoMap):
        return value.type_name
    if isinstance(value, dict):
        return "map[string]interface {}"
    if isinstance(value, list | tuple):
        return "[]interface {}"
    if isinstance(value, GoStruct):
        return value.type_name
    if callable(value):
        return "func(...) interface {}"
    return type(value).__name__


def _kind(value: Any) -> str:
    """reflect.Kind's name."""
    if value is None or value is MISSING:
        return "invalid"
    if isinstance(value, GoMap | dict):
        return "map"
    if isinstance(value, list | tuple):
        return "slice"
    if isinstance(value, GoStruct):
        return "struct"
    if callable(value) and not isinstance(value, str | int | float):
        return "func"
    return go_type(value)


def _sort_key(value: Any) -> tuple[Any, ...]:
    """Go's fmtsort order for map keys."""
    if value is None:
        return (0,)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    if isinstance(value, GoStruct):
        return (4, tuple(_sort_key(v) for _, v in value.fields))
    if isinstance(value, tuple | list):
        return (5, tuple(_sort_key(v) for v in value))
    return (9, str(value))


def _sorted_items(mapping: Mapping[Any, Any]) -> list[tuple[Any, Any]]:
    return sorted(mapping.items(), key=lambda kv: _sort_key(kv[0]))


def is_true(value: Any) -> bool:
    """Go's template truth: false, 0, nil, and empty strings, slices and maps are false."""
    if value is None or value is MISSING:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str | list | tuple | dict):
        return len(value) > 0
    return True


# ---------------------------------------------------------------------------------------------
# fmt


def _go_float(value: float, verb: str = "v", prec: int = -1) -> str:
    """strconv.FormatFloat as fmt's %v/%g/%e/%f use it."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if verb in ("e", "E", "f", "F") or (verb in ("g", "G") and prec >= 0):
        text = _shortest(value, verb.lower()) if prec < 0 else format(value, f".{prec}{verb.lower()}")
        return text.upper() if verb in ("E", "G") else text
    text = _shortest(value, "g")
    return text.upper() if verb == "G" else text


def _shortest(value: float, verb: str) -> str:
    """The shortest digits that read back (strconv's precision -1), laid out as %e, %f or %g."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign, digits_t, exp = Decimal(repr(value)).as_tuple()
    digits = "".join(map(str, digits_t)).rstrip("0") or "0"
    assert isinstance(exp, int)
    point = len(digits_t) + exp  # value = 0.digits * 10**point
    x = point - 1
    neg = "-" if sign else ""
    if verb == "e" or (verb == "g" and (x < -4 or x >= _G_EXPONENT_LIMIT)):
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{neg}{mantissa}e{'-' if x < 0 else '+'}{abs(x):02d}"
    if point <= 0:
        return f"{neg}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{neg}{digits}{'0' * (point - len(digits))}"
    return f"{neg}{digits[:point]}.{digits[point:]}"


# fmt's %v of a float64 is %g with the shortest precision; strconv then uses an exponent when
# it is below -4 or at least 6 (`if shortest { eprec = 6 }`): 100000 but 1e+06, 1.23456789e+08.
_G_EXPONENT_LIMIT = 6


def _fmt_v(value: Any, plus: bool = False) -> str:
    """fmt's %v (%+v with `plus`: struct field names)."""
    if value is None:
        return "<nil>"
    if value is MISSING:
        return "<no value>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _go_float(value)
    if isinstance(value, str):
        return value
    if isinstance(value, GoStruct):
        if _stringer(value):
            return _stringify(value)
        if plus:
            return "{" + " ".join(f"{k}:{_fmt_v(v, plus)}" for k, v in value.fields) + "}"
        return "{" + " ".join(_fmt_v(v, plus) for _, v in value.fields) + "}"
    if isinstance(value, dict):
        return (
            "map[" + " ".join(f"{_fmt_v(k, plus)}:{_fmt_v(v, plus)}" for k, v in _sorted_items(value)) + "]"
        )
    if isinstance(value, list | tuple):
        return "[" + " ".join(_fmt_v(v, plus) for v in value) + "]"
    if callable(value):
        return "0x0"
    return str(value)


def sprint(*args: Any) -> str:
    """fmt.Sprint: spaces between operands when neither is a string."""
    out: list[str] = []
    prev_string = False
    for i, arg in enumerate(args):
        is_string = isinstance(arg, str)
        if i > 0 and not is_string and not prev_string:
            out.append(" ")
        out.append(_fmt_v(arg))
        prev_string = is_string
    return "".join(out)


def sprintln(*args: Any) -> str:
    return " ".join(_fmt_v(a) for a in args) + "\n"


_DIRECTIVE = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(\*|\d*))?(.|$)", re.S)


def sprintf(format_: str, *args: Any) -> str:
    """fmt.Sprintf for the verbs templates use; Go's inline errors (`%!d(string=x)`,
    `%!s(MISSING)`, `%!(EXTRA int=1)`)."""
    out: list[str] = []
    arg_i = 0
    pos = 0
    while True:
        pct = format_.find("%", pos)
        if pct < 0:
            out.append(format_[pos:])
            break
        out.append(format_[pos:pct])
        match = _DIRECTIVE.match(format_, pct)
        assert match is not None
        flags, width_s, prec_s, verb = match.groups()
        pos = match.end()
        width = -1
        prec = -1
        if width_s == "*":
            if arg_i < len(args) and isinstance(args[arg_i], int) and not isinstance(args[arg_i], bool):
                width = int(args[arg_i])
                if width < 0:
                    flags += "-"
                    width = -width
            else:
                out.append("%!(BADWIDTH)")
            arg_i += 1
        elif width_s:
            width = int(width_s)
        if prec_s == "*":
            if arg_i < len(args) and isinstance(args[arg_i], int) and not isinstance(args[arg_i], bool):
                prec = max(int(args[arg_i]), -1)
            else:
                out.append("%!(BADPREC)")
            arg_i += 1
        elif prec_s is not None:
            prec = int(prec_s or "0")
        if verb == "":
            out.append("%!(NOVERB)")
            break
        if verb == "%":
            out.append("%")
            continue
        if arg_i >= len(args):
            out.append(f"%!{verb}(MISSING)")
            continue
        out.append(_fmt_arg(args[arg_i], verb, flags, width, prec))
        arg_i += 1
    if arg_i < len(args):
        extra = ", ".join(f"{go_type(a)}={_fmt_v(a)}" if a is not None else "<nil>" for a in args[arg_i:])
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _pad(text: str, flags: str, width: int, numeric: bool = False) -> str:
    if width <= len(text):
        return text
    if "-" in flags:
        return text + " " * (width - len(text))
    if "0" in flags:
        if numeric and text[:1] in "+-":
            return text[0] + "0" * (width - len(text)) + text[1:]
        return "0" * (width - len(text)) + text
    return " " * (width - len(text)) + text


def _bad_verb(value: Any, verb: str) -> str:
    if value is None:
        return f"%!{verb}(<nil>)"
    return f"%!{verb}({go_type(value)}={_fmt_v(value)})"


def _fmt_arg(value: Any, verb: str, flags: str, width: int, prec: int) -> str:
    if verb == "T":
        return _pad(go_type(value), flags, width)
    if value is None or value is MISSING:
        return _pad("<nil>", flags, width) if verb == "v" else _bad_verb(None, verb)
    if prec < 0 and verb in "eEfF" and isinstance(value, float):
        prec = 6
    if isinstance(value, bool):
        if verb in ("v", "t"):
            return _pad("true" if value else "false", flags, width)
        return _bad_verb(value, verb)
    if isinstance(value, int):
        return _fmt_int(int(value), verb, flags, width, prec, value)
    if isinstance(value, float):
        if verb not in "veEfFgG":
            return _bad_verb(value, verb)
        text = _go_float(value, "g" if verb == "v" else verb, prec)
        if "+" in flags and not text.startswith("-"):
            text = "+" + text
        elif " " in flags and not text.startswith("-"):
            text = " " + text
        return _pad(text, flags, width, numeric=True)
    if isinstance(value, str):
        return _fmt_str(value, verb, flags, width, prec)
    if isinstance(value, GoStruct):
        if _stringer(value) and verb in "vsqxX":
            return _fmt_str(_stringify(value), verb, flags, width, prec)
        if verb == "v" and "+" in flags:  # %+v names the fields; the + is not a sign here
            inner = flags.replace("+", "")
            parts = [f"{k}:{_fmt_arg(v, verb, inner, -1, prec)}" for k, v in value.fields]
        else:
            parts = [_fmt_arg(v, verb, flags, width, prec) for _, v in value.fields]
        return "{" + " ".join(parts) + "}"
    if isinstance(value, dict):
        items = [
            f"{_fmt_arg(k, verb, flags, width, prec)}:{_fmt_arg(v, verb, flags, width, prec)}"
            for k, v in _sorted_items(value)
        ]
        return "map[" + " ".join(items) + "]"
    if isinstance(value, list | tuple):
        return "[" + " ".join(_fmt_arg(v, verb, flags, width, prec) for v in value) + "]"
    return _pad(_fmt_v(value), flags, width)


def _fmt_int(number: int, verb: str, flags: str, width: int, prec: int, original: Any) -> str:
    if verb == "c":
        return _pad(chr(number) if 0 <= number <= 0x10FFFF else "\ufffd", flags, width)
    if verb == "q":
        return _pad(_quote_rune(number), flags, width)
    if verb == "U":
        text = f"U+{number:04X}"
        if "#" in flags and 0 <= number <= 0x10FFFF:
            text += f" '{chr(number)}'"
        return _pad(text, flags, width)
    bases = {"v": "d", "d": "d", "b": "b", "o": "o", "O": "o", "x": "x", "X": "X"}
    if verb not in bases:
        return _bad_verb(original, verb)
    digits = format(abs(number), bases[verb])
    if prec >= 0:
        digits = digits.rjust(prec, "0") if prec else ("" if number == 0 else digits)
    if "#" in flags or verb == "O":
        digits = {"b": "0b", "o": "0", "O": "0o", "x": "0x", "X": "0X"}.get(verb, "") + digits
    sign = "-" if number < 0 else "+" if "+" in flags else " " if " " in flags else ""
    return _pad(sign + digits, flags if prec < 0 else flags.replace("0", ""), width, numeric=True)


def _fmt_str(text: str, verb: str, flags: str, width: int, prec: int) -> str:
    if prec >= 0:
        text = text[:prec]
    if verb in ("v", "s"):
        return _pad(text, flags, width)
    if verb == "q":
        if "#" in flags and "`" not in text and all(c == "\t" or c.isprintable() for c in text):
            return _pad(f"`{text}`", flags, width)
        return _pad(semver.go_quote(text), flags, width)
    if verb in ("x", "X"):
        data = text.encode()
        sep = " " if " " in flags else ""
        hexed = sep.join(format(b, "02x" if verb == "x" else "02X") for b in data)
        return _pad(hexed, flags, width)
    return _bad_verb(text, verb)


def _quote_rune(number: int) -> str:
    if not 0 <= number <= 0x10FFFF:
        number = 0xFFFD
    ch = chr(number)
    if ch == "'":
        return r"'\''"
    if ch == '"':
        return "'\"'"
    return "'" + semver.go_quote(ch)[1:-1] + "'"


# ---------------------------------------------------------------------------------------------
# Lexer (Go's text/template/parse lex.go)

_EOF = "EOF"
_ERROR = "error"
_TEXT = "text"
_LEFT = "{{"
_RIGHT = "}}"
_SPACE = "space"
_IDENT = "identifier"
_FIELD = "field"
_VAR = "variable"
_STRING = "string"
_RAW = "raw string"
_CHARCONST = "char constant"
_NUMBER = "number"
_BOOL = "bool"
_PIPE = "|"
_LPAREN = "("
_RPAREN = ")"
_DECLARE = ":="
_ASSIGN = "="
_CHAR = "char"
# keywords (printed as <word> in errors)
_KEYWORDS = {
    ".": "dot",
    "block": "block",
    "break": "break",
    "continue": "continue",
    "define": "define",
    "else": "else",
    "end": "end",
    "if": "if",
    "range": "range",
    "nil": "nil",
    "template": "template",
    "with": "with",
}
_KEYWORD_TYPES = frozenset(_KEYWORDS.values())
_SPACES = " \t\r\n"
_SPACE_CHARS = frozenset(_SPACES)


@dataclass(frozen=True, slots=True)
class _Token:
    typ: str
    val: str
    pos: int
    line: int

    def __str__(self) -> str:
        if self.typ == _EOF:
            return "EOF"
        if self.typ == _ERROR:
            return self.val
        if self.typ in _KEYWORD_TYPES:
            return f"<{self.val}>"
        if len(self.val) > 10:
            return semver.go_quote(self.val[:10]) + "..."
        return semver.go_quote(self.val)


def _is_alnum(ch: str) -> bool:
    return ch == "_" or ch.isalpha() or ch.isdigit()


def _unicode_name(ch: str) -> str:
    """Go's %#U."""
    code = ord(ch)
    return f"U+{code:04X} '{ch}'" if ch.isprintable() else f"U+{code:04X}"


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens: list[_Token] = []
        self._line_pos = 0
        self._line = 1

    def line_at(self, pos: int) -> int:
        if pos < self._line_pos:
            self._line_pos, self._line = 0, 1
        self._line += self.text.count("\n", self._line_pos, pos)
        self._line_pos = pos
        return self._line

    def emit(self, typ: str, start: int, end: int) -> None:
        self.tokens.append(_Token(typ, self.text[start:end], start, self.line_at(start)))

    def error(self, message: str, start: int) -> list[_Token]:
        self.tokens.append(_Token(_ERROR, message, start, self.line_at(start)))
        return self.tokens

    def run(self) -> list[_Token]:
        text = self.text
        pos = 0
        n = len(text)
        while True:
            x = text.find("{{", pos)
            if x < 0:
                if pos < n:
                    self.emit(_TEXT, pos, n)
                self.tokens.append(_Token(_EOF, "", n, self.line_at(n)))
                return self.tokens
            trim = text[x + 2 : x + 3] == "-" and text[x + 3 : x + 4] in _SPACE_CHARS
            end_text = x
            if trim:
                end_text = len(text[pos:x].rstrip(_SPACES)) + pos
            if end_text > pos:
                self.emit(_TEXT, pos, end_text)
            pos = x + 2
            after = pos + (2 if trim else 0)
            if text.startswith("/*", after):
                close = text.find("*/", after + 2)
                if close < 0:
                    return self.error("unclosed comment", after)
                pos = close + 2
                at, right_trim = self._at_right(pos)
                if not at:
                    return self.error("comment ends before closing delimiter", after)
                pos += 4 if right_trim else 2
                if right_trim:
                    pos = self._skip_spaces(pos)
                continue
            self.emit(_LEFT, x, x + 2)
            pos = after
            result = self._inside(pos)
            if result is None:
                return self.tokens
            pos = result

    def _at_right(self, pos: int) -> tuple[bool, bool]:
        text = self.text
        if (
            text[pos : pos + 1] in tuple(_SPACES)
            and text[pos + 1 : pos + 2] == "-"
            and text.startswith("}}", pos + 2)
        ):
            return True, True
        return text.startswith("}}", pos), False

    def _skip_spaces(self, pos: int) -> int:
        n = len(self.text)
        while pos < n and self.text[pos] in _SPACES:
            pos += 1
        return pos

    def _at_terminator(self, pos: int) -> bool:
        text = self.text
        if pos >= len(text):
            return True
        ch = text[pos]
        return ch in _SPACES or ch in ".,|:()" or text.startswith("}}", pos)

    def _inside(self, pos: int) -> int | None:
        """Lex one action; the position after its right delimiter, or None after an error."""
        text = self.text
        n = len(text)
        depth = 0
        while True:
            at, trim = self._at_right(pos)
            if at:
                if depth:
                    self.error("unclosed left paren", pos)
                    return None
                if trim:
                    pos += 2
                self.emit(_RIGHT, pos, pos + 2)
                pos += 2
                return self._skip_spaces(pos) if trim else pos
            if pos >= n:
                self.error("unclosed action", pos)
                return None
            ch = text[pos]
            start = pos
            if ch in _SPACES:
                while pos < n and text[pos] in _SPACES:
                    pos += 1
                if self._at_right(pos - 1) == (True, True):
                    pos -= 1  # the last space belongs to the trim marker " -}}"
                    if pos == start:
                        continue
                self.emit(_SPACE, start, pos)
                continue
            if ch == "=":
                self.emit(_ASSIGN, pos, pos + 1)
                pos += 1
            elif ch == ":":
                if text[pos + 1 : pos + 2] != "=":
                    self.error("expected :=", pos)
                    return None
                self.emit(_DECLARE, pos, pos + 2)
                pos += 2
            elif ch == "|":
                self.emit(_PIPE, pos, pos + 1)
                pos += 1
            elif ch == '"' or ch == "'":
                pos += 1
                while True:
                    c = text[pos : pos + 1]
                    pos += 1
                    if c == "\\":
                        nxt = text[pos : pos + 1]
                        if nxt and nxt != "\n":
                            pos += 1
                            continue
                        c = ""
                    if c in ("", "\n"):
                        kind = "quoted string" if ch == '"' else "character constant"
                        self.error(f"unterminated {kind}", start)
                        return None
                    if c == ch:
                        break
                self.emit(_STRING if ch == '"' else _CHARCONST, start, pos)
            elif ch == "`":
                close = text.find("`", pos + 1)
                if close < 0:
                    self.error("unterminated raw quoted string", start)
                    return None
                pos = close + 1
                self.emit(_RAW, start, pos)
            elif ch == "$":
                pos = self._field_or_variable(pos + 1)
                if pos < 0:
                    return None
                self.emit(_VAR, start, pos)
            elif ch == "." and not "0" <= text[pos + 1 : pos + 2] <= "9":
                if self._at_terminator(pos + 1):
                    self.emit("dot", start, pos + 1)
                    pos += 1
                else:
                    pos = self._field_or_variable(pos + 1)
                    if pos < 0:
                        return None
                    self.emit(_FIELD, start, pos)
            elif ch in "+-." or "0" <= ch <= "9":
                pos = self._number(pos)
                if pos < 0:
                    return None
            elif _is_alnum(ch):
                while pos < n and _is_alnum(text[pos]):
                    pos += 1
                word = text[start:pos]
                if not self._at_terminator(pos):
                    self.error(f"bad character {_unicode_name(text[pos])}", start)
                    return None
                if word in _KEYWORDS:
                    self.emit(_KEYWORDS[word], start, pos)
                elif word in ("true", "false"):
                    self.emit(_BOOL, start, pos)
                else:
                    self.emit(_IDENT, start, pos)
            elif ch == "(":
                depth += 1
                self.emit(_LPAREN, pos, pos + 1)
                pos += 1
            elif ch == ")":
                depth -= 1
                if depth < 0:
                    self.error("unexpected right paren", pos)
                    return None
                self.emit(_RPAREN, pos, pos + 1)
                pos += 1
            elif ord(ch) <= 0x7F and ch.isprintable():
                self.emit(_CHAR, pos, pos + 1)
                pos += 1
            else:
                self.error(f"unrecognized character in action: {_unicode_name(ch)}", pos)
                return None

    def _field_or_variable(self, pos: int) -> int:
        text = self.text
        n = len(text)
        if self._at_terminator(pos):
            return pos
        while pos < n and _is_alnum(text[pos]):
            pos += 1
        if not self._at_terminator(pos):
            self.error(f"bad character {_unicode_name(text[pos])}", pos)
            return -1
        return pos

    def _number(self, start: int) -> int:
        text = self.text
        n = len(text)
        pos = start

        def accept(chars: str) -> bool:
            nonlocal pos
            if pos < n and text[pos] in chars:
                pos += 1
                return True
            return False

        def run(chars: str) -> None:
            while accept(chars):
                pass

        accept("+-")
        digits = "0123456789_"
        if accept("0"):
            if accept("xX"):
                digits = "0123456789abcdefABCDEF_"
            elif accept("oO"):
                digits = "01234567_"
            elif accept("bB"):
                digits = "01_"
        run(digits)
        if accept("."):
            run(digits)
        if len(digits) == 11 and accept("eE"):
            accept("+-")
            run("0123456789_")
        if len(digits) == 23 and accept("pP"):
            accept("+-")
            run("0123456789_")
        accept("i")
        if pos < n and _is_alnum(text[pos]):
            pos += 1
            self.error(f"bad number syntax: {semver.go_quote(text[start:pos])}", start)
            return -1
        if pos < n and text[pos] in "+-":  # a complex constant (1+2i): not supported by us
            pos += 1
            while pos < n and (_is_alnum(text[pos]) or text[pos] == "."):
                pos += 1
            self.error(f"bad number syntax: {semver.go_quote(text[start:pos])}", start)
            return -1
        self.emit(_NUMBER, start, pos)
        return pos


# ---------------------------------------------------------------------------------------------
# Go literals


def go_parse_int(text: str) -> int | None:
    """strconv.ParseInt(text, 0, 64) without the range check: None when not an integer."""
    body = text
    sign = 1
    if body[:1] in ("+", "-"):
        sign = -1 if body[0] == "-" else 1
        body = body[1:]
    base = 10
    prefixed = False
    if body[:2].lower() in ("0x", "0o", "0b"):
        base = {"x": 16, "o": 8, "b": 2}[body[1].lower()]
        body = body[2:]
        prefixed = True
    elif len(body) > 1 and body[0] == "0":
        base = 8
        body = body[1:]
        prefixed = True
    if "_" in body:
        if not _underscores_ok(("0" if prefixed else "") + body):
            return None
        body = body.replace("_", "")
    if not body or not all(c in "0123456789abcdefABCDEF"[: base + (6 if base == 16 else 0)] for c in body):
        return None
    return sign * int(body, base)


def _underscores_ok(text: str) -> bool:
    # Go's underscoreOK: '_' must separate digits (a base prefix counts as a digit)
    prev = "^"
    for ch in text:
        if ch == "_" and prev != "0":
            return False
        prev = "_" if ch == "_" else "0"
    return prev != "_"


def _go_parse_float(text: str) -> float | None:
    body = text.replace("_", "") if _underscores_ok(text.lstrip("+-")) else None
    if body is None:
        return None
    try:
        if body.lstrip("+-")[:2].lower() == "0x":
            return float.fromhex(body)
        if any(c.isalpha() and c not in "eE" for c in body):
            return None
        return float(body)
    except (ValueError, OverflowError):
        return None


_SIMPLE_ESCAPES = {
    "a": "\a",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
}


def go_unquote(literal: str) -> str:
    """strconv.Unquote; ValueError("invalid syntax") as Go's ErrSyntax."""
    if len(literal) < 2 or literal[0] != literal[-1] or literal[0] not in "\"'`":
        raise ValueError("invalid syntax")
    quote = literal[0]
    body = literal[1:-1]
    if quote == "`":
        if "`" in body:
            raise ValueError("invalid syntax")
        return body.replace("\r", "")
    out: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == quote or ch == "\n":
            raise ValueError("invalid syntax")
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        i += 1
        esc = body[i : i + 1]
        i += 1
        if esc in _SIMPLE_ESCAPES:
            out.append(_SIMPLE_ESCAPES[esc])
        elif esc == quote:
            out.append(esc)
        elif esc in ("x", "u", "U"):
            size = {"x": 2, "u": 4, "U": 8}[esc]
            digits = body[i : i + size]
            if len(digits) != size or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError("invalid syntax")
            code = int(digits, 16)
            i += size
            if esc != "x" and (code > 0x10FFFF or 0xD800 <= code < 0xE000):
                raise ValueError("invalid syntax")
            out.append(chr(code))
        elif esc and "0" <= esc <= "7":
            digits = esc + body[i : i + 2]
            if len(digits) != 3 or not all("0" <= c <= "7" for c in digits) or int(digits, 8) > 255:
                raise ValueError("invalid syntax")
            out.append(chr(int(digits, 8)))
            i += 2
        else:
            raise ValueError("invalid syntax")
    text = "".join(out)
    if quote == "'" and len(text) != 1:
        raise ValueError("invalid syntax")
    return text


# ---------------------------------------------------------------------------------------------
# Parse tree (Go's text/template/parse node.go)


class _Node:
    __slots__ = ("pos",)
    pos: int


class _Text(_Node):
    __slots__ = ("text",)

    def __init__(self, pos: int, text: str) -> None:
        self.pos, self.text = pos, text

    def __str__(self) -> str:
        return semver.go_quote(self.text)


class _Field(_Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: tuple[str, ...]) -> None:
        self.pos, self.ident = pos, ident

    def __str__(self) -> str:
        return "".join("." + i for i in self.ident)


class _Variable(_Node):
    __slots__ = ("ident",)

    def __init__(self, pos: int, ident: tuple[str, ...]) -> None:
        self.pos, self.ident = pos, ident

    def __str__(self) -> str:
        return ".".join(self.ident)


class _Identifier(_Node):
    __slots__ = ("name",)

    def __init__(self, pos: int, name: str) -> None:
        self.pos, self.name = pos, name

    def __str__(self) -> str:
        return self.name


class _Dot(_Node):
    __slots__ = ()

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def __str__(self) -> str:
        return "."


class _Nil(_Node):
    __slots__ = ()

    def __init__(self, pos: int) -> None:
        self.pos = pos

    def __str__(self) -> str:
        return "nil"


class _Bool(_Node):
    __slots__ = ("value",)

    def __init__(self, pos: int, value: bool) -> None:
        self.pos, self.value = pos, value

    def __str__(self) -> str:
        return "true" if self.value else "false"


class _Number(_Node):
    __slots__ = ("as_float", "as_int", "is_float", "is_int", "text")

    def __init__(self, pos: int, text: str, is_char: bool) -> None:
        self.pos, self.text = pos, text
        self.is_int = self.is_float = False
        self.as_int = 0
        self.as_float = 0.0
        if is_char:
            self.is_int = self.is_float = True
            self.as_int = ord(go_unquote(text))
            self.as_float = float(self.as_int)
            return
        number = text[:-1] if text.endswith("i") else text
        if text.endswith("i"):
            raise ValueError(f"illegal number syntax: {semver.go_quote(text)}")
        parsed = go_parse_int(number)
        if parsed is not None and -(2**63) <= parsed < 2**64:
            self.is_int = parsed < 2**63
            self.as_int = parsed
            self.is_float = True
            self.as_float = float(parsed)
            return
        real = _go_parse_float(number)
        if real is not None and not math.isinf(real):
            if not any(c in number for c in ".eEpP"):
                raise ValueError(f"integer overflow: {semver.go_quote(text)}")
            self.is_float = True
            self.as_float = real
            if real == int(real) and -(2**63) <= real < 2**63:
                self.is_int = True
                self.as_int = int(real)
            return
        raise ValueError(f"illegal number syntax: {semver.go_quote(text)}")

    def __str__(self) -> str:
        return self.text


class _String(_Node):
    __slots__ = ("quoted", "text")

    def __init__(self, pos: int, quoted: str, text: str) -> None:
        self.pos, self.quoted, self.text = pos, quoted, text

    def __str__(self) -> str:
        return self.quoted


class _Pipe(_Node):
    __slots__ = ("cmds", "decl", "is_assign", "line")

    def __init__(self, pos: int, line: int) -> None:
        self.pos, self.line = pos, line
        self.is_assign = False
        self.decl: list[_Variable] = []
        self.cmds: list[_Command] = []

    def __str__(self) -> str:
        text = ""
        if self.decl:
            text = ", ".join(str(v) for v in self.decl) + (" = " if self.is_assign else " := ")
        return text + " | ".join(str(c) for c in self.cmds)


class _Command(_Node):
    __slots__ = ("args",)

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.args: list[_Node] = []

    def __str__(self) -> str:
        return " ".join(f"({a})" if isinstance(a, _Pipe) else str(a) for a in self.args)


class _Chain(_Node):
    __slots__ = ("field", "node")

    def __init__(self, pos: int, node: _Node) -> None:
        self.pos, self.node = pos, node
        self.field: list[str] = []

    def __str__(self) -> str:
        base = f"({self.node})" if isinstance(self.node, _Pipe) else str(self.node)
        return base + "".join("." + f for f in self.field)


class _List(_Node):
    __slots__ = ("nodes",)

    def __init__(self, pos: int) -> None:
        self.pos = pos
        self.nodes: list[_Node] = []

    def __str__(self) -> str:
        return "".join(str(n) for n in self.nodes)


class _Action(_Node):
    __slots__ = ("line", "pipe")

    def __init__(self, pos: int, line: int, pipe: _Pipe) -> None:
        self.pos, self.line, self.pipe = pos, line, pipe

    def __str__(self) -> str:
        return "{{" + str(self.pipe) + "}}"


class _Branch(_Node):
    __slots__ = ("else_list", "keyword", "line", "list", "pipe")

    def __init__(
        self, keyword: str, pos: int, line: int, pipe: _Pipe, body: _List, else_list: _List | None
    ) -> None:
        self.keyword, self.pos, self.line, self.pipe = keyword, pos, line, pipe
        self.list, self.else_list = body, else_list

    def __str__(self) -> str:
        text = "{{" + self.keyword + " " + str(self.pipe) + "}}" + str(self.list)
        if self.else_list is not None:
            text += "{{else}}" + str(self.else_list)
        return text + "{{end}}"


class _TemplateCall(_Node):
    __slots__ = ("line", "name", "pipe")

    def __init__(self, pos: int, line: int, name: str, pipe: _Pipe | None) -> None:
        self.pos, self.line, self.name, self.pipe = pos, line, name, pipe

    def __str__(self) -> str:
        if self.pipe is None:
            return "{{template " + semver.go_quote(self.name) + "}}"
        return "{{template " + semver.go_quote(self.name) + " " + str(self.pipe) + "}}"


class _Break(_Node):
    __slots__ = ("keyword", "line")

    def __init__(self, keyword: str, pos: int, line: int) -> None:
        self.keyword, self.pos, self.line = keyword, pos, line

    def __str__(self) -> str:
        return "{{" + self.keyword + "}}"


class _End(_Node):
    __slots__ = ("keyword",)

    def __init__(self, keyword: str, pos: int) -> None:
        self.keyword, self.pos = keyword, pos

    def __str__(self) -> str:
        return "{{" + self.keyword + "}}"


# ---------------------------------------------------------------------------------------------
# Parser (Go's text/template/parse parse.go)


class _Parser:
    def __init__(self, text: str, name: str, funcs: Mapping[str, Any], trees: dict[str, _List]) -> None:
        self.text = text
        self.name = name  # ParseName: the top template's name, for every error in this text
        self.funcs = funcs
        self.trees = trees
        self.tokens = _Lexer(text).run()
        self.i = 0
        self.furthest = 0  # Go reports the line of the last token it took from the lexer
        self.vars: list[str] = ["$"]
        self.action_line = 0
        self.range_depth = 0

    # token stream
    def next(self) -> _Token:
        i = min(self.i, len(self.tokens) - 1)  # the lexer keeps giving EOF
        self.furthest = max(self.furthest, i)
        self.i += 1
        return self.tokens[i]

    def backup(self, count: int = 1) -> None:
        self.i -= count

    def peek(self) -> _Token:
        i = min(self.i, len(self.tokens) - 1)
        self.furthest = max(self.furthest, i)
        return self.tokens[i]

    def next_non_space(self) -> _Token:
        token = self.next()
        while token.typ == _SPACE:
            token = self.next()
        return token

    def peek_non_space(self) -> _Token:
        token = self.next_non_space()
        self.backup()
        return token

    def errorf(self, message: str) -> NoReturn:
        raise TemplateError(f"template: {self.name}:{self.tokens[self.furthest].line}: {message}")

    def unexpected(self, token: _Token, context: str) -> NoReturn:
        if token.typ == _ERROR:
            extra = ""
            if self.action_line and self.action_line != token.line:
                extra = f" in action started at {self.name}:{self.action_line}"
                if token.val.endswith(" action"):
                    extra = extra[len(" in action") :]
            self.errorf(f"{token}{extra}")
        self.errorf(f"unexpected {token} in {context}")

    def expect(self, typ: str, context: str) -> _Token:
        token = self.next_non_space()
        if token.typ != typ:
            self.unexpected(token, context)
        return token

    # structure
    def parse(self) -> _List:
        root = _List(self.peek().pos)
        while self.peek().typ != _EOF:
            if self.peek().typ == _LEFT:
                before = self.i
                self.next()
                if self.next_non_space().typ == "define":
                    self.parse_definition()
                    continue
                self.i = before
            node = self.text_or_action()
            if isinstance(node, _End):
                self.errorf(f"unexpected {node}")
            root.nodes.append(node)
        return root

    def add(self, name: str, root: _List) -> None:
        existing = self.trees.get(name)
        if existing is None or _is_empty(existing):
            self.trees[name] = root
            return
        if not _is_empty(root):
            self.errorf(f"template: multiple definition of template {semver.go_quote(name)}")

    def parse_definition(self) -> None:
        context = "define clause"
        token = self.next_non_space()
        if token.typ not in (_STRING, _RAW):
            self.unexpected(token, context)
        name = self.unquote(token.val)
        self.expect(_RIGHT, context)
        saved = self.vars
        self.vars = ["$"]
        root, end = self.item_list()
        self.vars = saved
        if end.keyword != "end":
            self.errorf(f"unexpected {end} in {context}")
        self.add(name, root)

    def unquote(self, literal: str) -> str:
        try:
            return go_unquote(literal)
        except ValueError as exc:
            self.errorf(str(exc))

    def item_list(self) -> tuple[_List, _End]:
        body = _List(self.peek_non_space().pos)
        while self.peek_non_space().typ != _EOF:
            node = self.text_or_action()
            if isinstance(node, _End):
                return body, node
            body.nodes.append(node)
        self.errorf("unexpected EOF")

    def text_or_action(self) -> _Node:
        token = self.next_non_space()
        if token.typ == _TEXT:
            return _Text(token.pos, token.val)
        if token.typ == _LEFT:
            self.action_line = token.line
            try:
                return self.action()
            finally:
                self.action_line = 0
        self.unexpected(token, "input")

    def action(self) -> _Node:
        token = self.next_non_space()
        typ = token.typ
        if typ == "block":
            return self.block_control()
        if typ in ("break", "continue"):
            nxt = self.next_non_space()
            if nxt.typ != _RIGHT:
                self.unexpected(nxt, "{{" + typ + "}}")
            if self.range_depth == 0:
                self.errorf("{{" + typ + "}} outside {{range}}")
            return _Break(typ, token.pos, token.line)
        if typ == "else":
            peek = self.peek_non_space()
            if peek.typ in ("if", "with"):
                return _End("else", peek.pos)
            self.expect(_RIGHT, "else")
            return _End("else", token.pos)
        if typ == "end":
            self.expect(_RIGHT, "end")
            return _End("end", token.pos)
        if typ in ("if", "with", "range"):
            return self.control(typ)
        if typ == "template":
            return self.template_control()
        self.backup()
        token = self.peek()
        return _Action(token.pos, token.line, self.pipeline("command", _RIGHT))

    def control(self, context: str) -> _Branch:
        mark = len(self.vars)
        try:
            pipe = self.pipeline(context, _RIGHT)
            if context == "range":
                self.range_depth += 1
            body, nxt = self.item_list()
            if context == "range":
                self.range_depth -= 1
            else_list: _List | None = None
            if nxt.keyword == "else":
                if context in ("if", "with") and self.peek().typ == context:
                    self.next()
                    else_list = _List(nxt.pos)
                    else_list.nodes.append(self.control(context))
                else:
                    else_list, nxt = self.item_list()
                    if nxt.keyword != "end":
                        self.errorf(f"expected end; found {nxt}")
            return _Branch(context, pipe.pos, pipe.line, pipe, body, else_list)
        finally:
            del self.vars[mark:]

    def template_name(self, token: _Token, context: str) -> str:
        if token.typ in (_STRING, _RAW):
            return self.unquote(token.val)
        self.unexpected(token, context)

    def template_control(self) -> _TemplateCall:
        context = "template clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe: _Pipe | None = None
        if self.next_non_space().typ != _RIGHT:
            self.backup()
            pipe = self.pipeline(context, _RIGHT)
        return _TemplateCall(token.pos, token.line, name, pipe)

    def block_control(self) -> _TemplateCall:
        context = "block clause"
        token = self.next_non_space()
        name = self.template_name(token, context)
        pipe = self.pipeline(context, _RIGHT)
        saved, saved_depth = self.vars, self.range_depth
        self.vars, self.range_depth = ["$"], 0
        root, end = self.item_list()
        self.vars, self.range_depth = saved, saved_depth
        if end.keyword != "end":
            self.errorf(f"unexpected {end} in {context}")
        self.add(name, root)
        return _TemplateCall(token.pos, token.line, name, pipe)

    def pipeline(self, context: str, end: str) -> _Pipe:
        token = self.peek_non_space()
        pipe = _Pipe(token.pos, token.line)
        while True:  # declarations
            var = self.peek_non_space()
            if var.typ != _VAR:
                break
            before = self.i
            self.next_non_space()
            nxt = self.peek_non_space()
            if nxt.typ in (_ASSIGN, _DECLARE):
                pipe.is_assign = nxt.typ == _ASSIGN
                self.next_non_space()
                pipe.decl.append(_Variable(var.pos, (var.val,)))
                self.vars.append(var.val)
            elif nxt.typ == _CHAR and nxt.val == ",":
                self.next_non_space()
                pipe.decl.append(_Variable(var.pos, (var.val,)))
                self.vars.append(var.val)
                if context == "range" and len(pipe.decl) < 2:
                    if self.peek_non_space().typ in (_VAR, _RIGHT, _RPAREN):
                        continue
                    self.errorf("range can only initialize variables")
                self.errorf(f"too many declarations in {context}")
            else:
                self.i = before
            break
        while True:
            token = self.next_non_space()
            if token.typ == end:
                self.check_pipeline(pipe, context)
                return pipe
            if token.typ in (
                _BOOL,
                _CHARCONST,
                "dot",
                _FIELD,
                _IDENT,
                _NUMBER,
                "nil",
                _RAW,
                _STRING,
                _VAR,
                _LPAREN,
            ):
                self.backup()
                pipe.cmds.append(self.command())
            else:
                self.unexpected(token, context)

    def check_pipeline(self, pipe: _Pipe, context: str) -> None:
        if not pipe.cmds:
            self.errorf(f"missing value for {context}")
        for i, cmd in enumerate(pipe.cmds[1:]):
            if isinstance(cmd.args[0], _Bool | _Dot | _Nil | _Number | _String):
                self.errorf(f"non executable command in pipeline stage {i + 2}")

    def command(self) -> _Command:
        cmd = _Command(self.peek_non_space().pos)
        while True:
            self.peek_non_space()
            operand = self.operand()
            if operand is not None:
                cmd.args.append(operand)
            token = self.next()
            if token.typ == _SPACE:
                continue
            if token.typ in (_RIGHT, _RPAREN):
                self.backup()
            elif token.typ != _PIPE:
                self.unexpected(token, "operand")
            break
        if not cmd.args:
            self.errorf("empty command")
        return cmd

    def operand(self) -> _Node | None:
        node = self.term()
        if node is None:
            return None
        if self.peek().typ == _FIELD:
            chain = _Chain(self.peek().pos, node)
            while self.peek().typ == _FIELD:
                chain.field.append(self.next().val[1:])
            if isinstance(node, _Field):
                return _Field(chain.pos, (*node.ident, *chain.field))
            if isinstance(node, _Variable):
                return _Variable(chain.pos, (*node.ident, *chain.field))
            if isinstance(node, _Bool | _String | _Number | _Nil | _Dot):
                self.errorf(f"unexpected . after term {semver.go_quote(str(node))}")
            return chain
        return node

    def term(self) -> _Node | None:
        token = self.next_non_space()
        typ = token.typ
        if typ == _IDENT:
            if token.val not in self.funcs and token.val not in _BUILTINS:
                self.errorf(f"function {semver.go_quote(token.val)} not defined")
            return _Identifier(token.pos, token.val)
        if typ == "dot":
            return _Dot(token.pos)
        if typ == "nil":
            return _Nil(token.pos)
        if typ == _VAR:
            parts = tuple(token.val.split("."))
            if parts[0] not in self.vars:
                self.errorf(f"undefined variable {semver.go_quote(parts[0])}")
            return _Variable(token.pos, parts)
        if typ == _FIELD:
            return _Field(token.pos, (token.val[1:],))
        if typ == _BOOL:
            return _Bool(token.pos, token.val == "true")
        if typ in (_NUMBER, _CHARCONST):
            try:
                return _Number(token.pos, token.val, typ == _CHARCONST)
            except ValueError as exc:
                self.errorf(str(exc))
        if typ == _LPAREN:
            return self.pipeline("parenthesized pipeline", _RPAREN)
        if typ in (_STRING, _RAW):
            return _String(token.pos, token.val, self.unquote(token.val))
        self.backup()
        return None


def _is_empty(node: _Node) -> bool:
    if isinstance(node, _List):
        return all(_is_empty(n) for n in node.nodes)
    if isinstance(node, _Text):
        return node.text.strip(" \t\r\n\v\f") == ""
    return False


# ---------------------------------------------------------------------------------------------
# Functions with Go signatures


class GoPanic(Exception):
    """A Go function's error or panic; the template reports `error calling NAME: <message>`."""


@dataclass(frozen=True, slots=True)
class GoFunc:
    """A template function with its Go parameter types (`string`, `int`, `int64`, `float64`,
    `bool`, `interface {}`, `reflect.Value`, `map[string]interface {}`), and the type of its
    variadic tail, if any. Calling it calls `impl`."""

    impl: Callable[..., Any]
    params: tuple[str, ...]
    variadic: str | None = None

    def __call__(self, *args: Any) -> Any:
        return self.impl(*args)


_MAX_DEPTH = 100


class _BreakLoop(Exception):
    pass


class _ContinueLoop(Exception):
    pass


class _State:
    __slots__ = ("depth", "funcs", "node", "out", "template", "tmpl_name", "vars")

    def __init__(self, template: Template, funcs: Mapping[str, Callable[..., Any]]) -> None:
        self.template = template
        self.funcs = funcs
        self.out: list[str] = []
        self.vars: list[list[Any]] = []
        self.node: _Node | None = None
        self.tmpl_name = template.name
        self.depth = 0

    # errors
    def errorf(self, message: str) -> NoReturn:
        name = self.tmpl_name
        node = self.node
        if node is None:
            raise TemplateError(f"template: {name}: {message}")
        text = self.template.text
        before = text[: node.pos]
        line = before.count("\n") + 1
        column = len(before[before.rfind("\n") + 1 :].encode())
        location = f"{self.template.name}:{line}:{column}"
        raise TemplateError(f"template: {location}: executing {semver.go_quote(name)} at <{node}>: {message}")

    # variables
    def push(self, name: str, value: Any) -> None:
        self.vars.append([name, value])

    def set_var(self, name: str, value: Any) -> None:
        for var in reversed(self.vars):
            if var[0] == name:
                var[1] = value
                return
        self.errorf(f"undefined variable: {name}")

    def var_value(self, name: str) -> Any:
        for var in reversed(self.vars):
            if var[0] == name:
                return var[1]
        self.errorf(f"undefined variable: {name}")

    # walking
    def walk(self, dot: Any, node: _Node) -> None:
        self.node = node
        if isinstance(node, _Text):
            self.out.append(node.text)
        elif isinstance(node, _Action):
            value = self.eval_pipeline(dot, node.pipe)
            if not node.pipe.decl:
                self.print_value(node, value)
        elif isinstance(node, _List):
            for child in node.nodes:
                self.walk(dot, child)
        elif isinstance(node, _Branch):
            if node.keyword == "range":
                self.walk_range(dot, node)
            else:
                self.walk_if_or_with(dot, node)
        elif isinstance(node, _TemplateCall):
            self.walk_template(dot, node)
        elif isinstance(node, _Break):
            raise _BreakLoop if node.keyword == "break" else _ContinueLoop
        else:  # pragma: no cover - the parser makes no other node
            self.errorf(f"unknown node: {node}")

    def walk_if_or_with(self, dot: Any, node: _Branch) -> None:
        mark = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            if is_true(value):
                self.walk(value if node.keyword == "with" else dot, node.list)
            elif node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[mark:]

    def walk_range(self, dot: Any, node: _Branch) -> None:
        self.node = node
        outer = len(self.vars)
        try:
            value = self.eval_pipeline(dot, node.pipe)
            mark = len(self.vars)
            decl = node.pipe.decl
            ran = False

            def one(index: Any, elem: Any) -> None:
                if decl:
                    if node.pipe.is_assign:
                        self.set_var(decl[0].ident[0], index if len(decl) > 1 else elem)
                    else:
                        self.vars[-1][1] = elem
                if len(decl) > 1:
                    if node.pipe.is_assign:
                        self.set_var(decl[1].ident[0], elem)
                    else:
                        self.vars[-2][1] = index
                try:
                    self.walk(elem, node.list)
                except _ContinueLoop:
                    pass
                finally:
                    del self.vars[mark:]

            try:
                if isinstance(value, list | tuple):
                    for i, elem in enumerate(value):
                        ran = True
                        one(i, elem)
                elif isinstance(value, dict):
                    for key, elem in _sorted_items(value):
                        ran = True
                        one(key, elem)
                elif isinstance(value, int) and not isinstance(value, bool):
                    if len(decl) > 1:
                        self.errorf(f"can't use {_fmt_v(value)} to iterate over more than one variable")
                    for i in range(value):
                        ran = True
                        one(type(value)(i), type(value)(i))
                elif value is None or value is MISSING:
                    pass
                else:
                    self.errorf(f"range can't iterate over {_fmt_v(value)}")
            except _BreakLoop:
                return
            if not ran and node.else_list is not None:
                self.walk(dot, node.else_list)
        finally:
            del self.vars[outer:]

    def walk_template(self, dot: Any, node: _TemplateCall) -> None:
        self.node = node
        tree = self.template.trees.get(node.name)
        if tree is None:
            self.errorf(f"no such template {semver.go_quote(node.name)}")
        if self.depth == _MAX_DEPTH:
            self.errorf(f"exceeded maximum template depth ({_MAX_DEPTH})")
        value = self.eval_pipeline(dot, node.pipe) if node.pipe is not None else MISSING
        saved = (self.vars, self.tmpl_name)
        self.vars = [["$", value]]
        self.tmpl_name = node.name
        self.depth += 1
        try:
            self.walk(value, tree)
        finally:
            self.vars, self.tmpl_name = saved
            self.depth -= 1

    def print_value(self, node: _Node, value: Any) -> None:
        self.node = node
        if value is MISSING:
            self.out.append("<no value>")
        elif isinstance(value, str):
            self.out.append(value)
        else:
            self.out.append(_fmt_v(value))

    # evaluation
    def eval_pipeline(self, dot: Any, pipe: _Pipe) -> Any:
        self.node = pipe
        value = _NO_FINAL
        for cmd in pipe.cmds:
            value = self.eval_command(dot, cmd, value)
        for var in pipe.decl:
            if pipe.is_assign:
                self.set_var(var.ident[0], value)
            else:
                self.push(var.ident[0], value)
        return value

    def not_a_function(self, args: list[_Node], final: Any) -> None:
        if len(args) > 1 or final is not _NO_FINAL:
            self.errorf(f"can't give argument to non-function {args[0]}")

    def eval_command(self, dot: Any, cmd: _Command, final: Any) -> Any:
        first = cmd.args[0]
        if isinstance(first, _Field):
            self.node = first
            return self.eval_field_chain(dot, dot, first, first.ident, cmd.args, final)
        if isinstance(first, _Chain):
            return self.eval_chain(dot, first, cmd.args, final)
        if isinstance(first, _Identifier):
            return self.eval_function(dot, first, cmd, cmd.args, final)
        if isinstance(first, _Pipe):
            self.not_a_function(cmd.args, final)
            return self.eval_pipeline(dot, first)
        if isinstance(first, _Variable):
            return self.eval_variable(dot, first, cmd.args, final)
        self.node = first
        self.not_a_function(cmd.args, final)
        if isinstance(first, _Bool):
            return first.value
        if isinstance(first, _Dot):
            return dot
        if isinstance(first, _Nil):
            self.errorf("nil is not a command")
        if isinstance(first, _Number):
            return self.ideal_constant(first)
        if isinstance(first, _String):
            return first.text
        self.errorf(f"can't evaluate command {semver.go_quote(str(first))}")

    def ideal_constant(self, number: _Number) -> Any:
        text = number.text
        hex_int = text.lstrip("+-")[:2].lower() == "0x" and "p" not in text.lower()
        if number.is_float and not hex_int and not text.startswith("'") and any(c in text for c in ".eEpP"):
            return number.as_float
        if number.is_int:
            return number.as_int
        self.errorf(f"{text} overflows int")

    def eval_chain(self, dot: Any, chain: _Chain, args: list[_Node] | None, final: Any) -> Any:
        self.node = chain
        if isinstance(chain.node, _Nil):
            self.errorf(f"indirection through explicit nil in {chain}")
        receiver = self.eval_arg(dot, "interface {}", chain.node)
        return self.eval_field_chain(dot, receiver, chain, tuple(chain.field), args, final)

    def eval_variable(self, dot: Any, var: _Variable, args: list[_Node] | None, final: Any) -> Any:
        self.node = var
        value = self.var_value(var.ident[0])
        if len(var.ident) == 1:
            if args is not None:
                self.not_a_function(args, final)
            return value
        return self.eval_field_chain(dot, value, var, var.ident[1:], args, final)

    def eval_field_chain(
        self,
        dot: Any,
        receiver: Any,
        node: _Node,
        ident: tuple[str, ...],
        args: list[_Node] | None,
        final: Any,
    ) -> Any:
        for name in ident[:-1]:
            receiver = self.eval_field(dot, name, node, None, _NO_FINAL, receiver)
        return self.eval_field(dot, ident[-1], node, args, final, receiver)

    def eval_field(
        self, dot: Any, name: str, node: _Node, args: list[_Node] | None, final: Any, receiver: Any
    ) -> Any:
        if receiver is MISSING:
            return MISSING
        if receiver is None:
            self.errorf(f"nil pointer evaluating interface {{}}.{name}")
        has_args = (args is not None and len(args) > 1) or final is not _NO_FINAL
        if isinstance(receiver, GoStruct):
            is_method, value, holder = _select(receiver, name)
            if is_method:
                return self.eval_call(dot, value, False, node, name, args, final, holder)
            if value is not _NOT_FOUND:
                if not name[:1].isupper():
                    self.errorf(f"{name} is an unexported field of struct type {receiver.type_name}")
                if has_args:
                    self.errorf(f"{name} has arguments but cannot be invoked as function")
                return value
        elif isinstance(receiver, dict) and (
            not isinstance(receiver, GoMap) or receiver.key_type == "string"
        ):
            if has_args:
                self.errorf(f"{name} is not a method but has arguments")
            return receiver.get(name, MISSING)
        self.errorf(f"can't evaluate field {name} in type {go_type(receiver)}")

    def eval_function(
        self, dot: Any, node: _Identifier, cmd: _Node, args: list[_Node] | None, final: Any
    ) -> Any:
        self.node = node
        name = node.name
        function = self.funcs.get(name)
        builtin = function is None
        if function is None:
            function = _BUILTINS.get(name)
        if function is None:
            self.errorf(f"{semver.go_quote(name)} is not a defined function")
        return self.eval_call(dot, function, builtin, cmd, name, args, final)

    def eval_call(
        self,
        dot: Any,
        function: Callable[..., Any],
        builtin: bool,
        node: _Node,
        name: str,
        args: list[_Node] | None,
        final: Any,
        receiver: Any = _NO_FINAL,
    ) -> Any:
        rest = args[1:] if args else []
        piped = final is not _NO_FINAL
        count = len(rest) + (1 if piped else 0)
        if isinstance(function, GoFunc):
            params, variadic = function.params, function.variadic
            impl = function.impl
        else:
            params, variadic, impl = (), "interface {}", function
        if variadic is not None:
            if count < len(params):
                self.errorf(f"wrong number of args for {name}: want at least {len(params)} got {len(rest)}")
        elif count != len(params):
            self.errorf(f"wrong number of args for {name}: want {len(params)} got {count}")
        if builtin and name in ("and", "or"):
            value: Any = MISSING
            for arg in rest:
                value = self.eval_arg(dot, "reflect.Value", arg)
                if is_true(value) == (name == "or"):
                    return value
            if piped:
                value = final
            return value
        values: list[Any] = []
        for i, arg in enumerate(rest):
            values.append(self.eval_arg(dot, params[i] if i < len(params) else str(variadic), arg))
        if piped:
            i = len(rest)
            values.append(self.validate_type(final, params[i] if i < len(params) else str(variadic)))
        if receiver is not _NO_FINAL:
            values.insert(0, receiver)
        try:
            return impl(*values)
        except (TemplateError, _BreakLoop, _ContinueLoop):
            raise
        except Exception as exc:  # a Go function's error or recovered panic
            self.node = node
            self.errorf(f"error calling {name}: {exc}")

    def eval_arg(self, dot: Any, typ: str, node: _Node) -> Any:
        self.node = node
        if isinstance(node, _Dot):
            return self.validate_type(dot, typ)
        if isinstance(node, _Nil):
            if typ in _NILABLE or typ.startswith(("map[", "[]", "*")):
                return None
            self.errorf(f"cannot assign nil to {typ}")
        if isinstance(node, _Field):
            return self.validate_type(
                self.eval_field_chain(dot, dot, node, node.ident, [node], _NO_FINAL), typ
            )
        if isinstance(node, _Variable):
            return self.validate_type(self.eval_variable(dot, node, None, _NO_FINAL), typ)
        if isinstance(node, _Pipe):
            return self.validate_type(self.eval_pipeline(dot, node), typ)
        if isinstance(node, _Identifier):
            return self.validate_type(self.eval_function(dot, node, node, None, _NO_FINAL), typ)
        if isinstance(node, _Chain):
            return self.validate_type(self.eval_chain(dot, node, None, _NO_FINAL), typ)
        if typ == "bool":
            if isinstance(node, _Bool):
                return node.value
            self.errorf(f"expected bool; found {node}")
        if typ == "float64":
            if isinstance(node, _Number) and node.is_float:
                return node.as_float
            self.errorf(f"expected float; found {node}")
        if typ in ("int", "int64"):
            if isinstance(node, _Number) and node.is_int:
                return Int64(node.as_int) if typ == "int64" else node.as_int
            self.errorf(f"expected integer; found {node}")
        if typ == "string":
            if isinstance(node, _String):
                return node.text
            self.errorf(f"expected string; found {node}")
        if typ in ("interface {}", "reflect.Value"):
            if isinstance(node, _Bool):
                return node.value
            if isinstance(node, _Number):
                return self.ideal_constant(node)
            if isinstance(node, _String):
                return node.text
        self.errorf(f"can't handle {node} for arg of type {typ}")

    def validate_type(self, value: Any, typ: str) -> Any:
        if value is MISSING:
            if typ == "reflect.Value":
                return MISSING
            if typ in _NILABLE or typ.startswith(("map[", "[]", "*")):
                return None
            self.errorf(f"invalid value; expected {typ}")
        if typ in _NILABLE:
            return value
        actual = go_type(value)
        if actual == typ or (value is None and typ.startswith(("map[", "[]", "*"))):
            return value
        if typ == "[]interface {}" and isinstance(value, list | tuple):
            return value
        self.errorf(f"wrong type for value; expected {typ}; got {actual}")


_NILABLE = frozenset({"interface {}", "reflect.Value"})


# ---------------------------------------------------------------------------------------------
# Template


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template: its name, its text, its trees (its own and those it defines), and the
    functions it was parsed with."""

    name: str
    text: str
    trees: Mapping[str, _List]
    funcs: Mapping[str, Callable[..., Any]]

    def execute(self, data: Any, funcs: Mapping[str, Callable[..., Any]] | None = None) -> str:
        """Render the template with `data` as dot (Go's `Template.Execute`)."""
        state = _State(self, self.funcs if funcs is None else funcs)
        if data is None:  # Go: reflect.ValueOf(nil) is the invalid value (`.` prints <no value>)
            data = MISSING
        state.push("$", data)
        root = self.trees.get(self.name)
        if root is None:
            raise TemplateError(
                f"template: {self.name}: {semver.go_quote(self.name)} is an incomplete or empty template"
            )
        try:
            state.walk(data, root)
        except RecursionError:
            state.errorf(f"exceeded maximum template depth ({_MAX_DEPTH})")
        return "".join(state.out)


def parse(
    text: str, name: str = "template", funcs: Mapping[str, Callable[..., Any]] | None = None
) -> Template:
    """Parse a template as `template.New(name).Funcs(funcs).Parse(text)` does; `funcs` defaults to
    Sprig's hermetic functions (Flux's). Raises TemplateError."""
    functions = HERMETIC_FUNCS if funcs is None else funcs
    trees: dict[str, _List] = {}
    parser = _Parser(text, name, functions, trees)
    root = parser.parse()
    parser.add(name, root)
    return Template(name, text, trees, functions)


# ---------------------------------------------------------------------------------------------
# Go's builtins (text/template funcs.go)


def _indirect(value: Any) -> Any:
    return MISSING if value is None else value


def _index(item: Any, *indexes: Any) -> Any:
    item = _indirect(item)
    if item is MISSING:
        raise GoPanic("index of untyped nil")
    for index in indexes:
        index = _indirect(index)
        if item is None:
            raise GoPanic("index of nil pointer")
        if isinstance(item, list | tuple | str):
            seq: Any = item.encode() if isinstance(item, str) else item
            x = _index_arg(index, len(seq))
            if x == len(seq):
                raise GoPanic(f"index out of range: {x}")
            item = seq[x]
        elif isinstance(item, dict):
            key_type = item.key_type if isinstance(item, GoMap) else "string"
            key = _prepare_key(index, key_type)
            item = item[key] if key in item else (item.zero if isinstance(item, GoMap) else None)
        else:
            raise GoPanic(f"can't index item of type {go_type(item)}")
    return item


def _index_arg(index: Any, cap: int) -> int:
    if index is MISSING:
        raise GoPanic("cannot index slice/array with nil")
    if not isinstance(index, int) or isinstance(index, bool):
        raise GoPanic(f"cannot index slice/array with type {go_type(index)}")
    if index < 0 or index > cap:
        raise GoPanic(f"index out of range: {index}")
    return int(index)


def _prepare_key(value: Any, key_type: str) -> Any:
    if value is MISSING:
        raise GoPanic(f"value is nil; should be of type {key_type}")
    actual = go_type(value)
    if actual == key_type or key_type == "interface {}":
        return value
    if actual in ("int", "int64") and key_type in ("int", "int64"):
        return value
    raise GoPanic(f"value has type {actual}; should be {key_type}")


def _slice(item: Any, *indexes: Any) -> Any:
    item = _indirect(item)
    if item is MISSING:
        raise GoPanic("slice of untyped nil")
    if len(indexes) > 3:
        raise GoPanic(f"too many slice indexes: {len(indexes)}")
    if isinstance(item, str):
        if len(indexes) == 3:
            raise GoPanic("cannot 3-index slice a string")
        seq: Any = item.encode()
    elif isinstance(item, list | tuple):
        seq = item
    else:
        raise GoPanic(f"can't slice item of type {go_type(item)}")
    bounds = [0, len(seq)]
    for i, index in enumerate(indexes):
        x = _index_arg(_indirect(index), len(seq))
        if i < 2:
            bounds[i] = x
    if bounds[0] > bounds[1]:
        raise GoPanic(f"invalid slice index: {bounds[0]} > {bounds[1]}")
    part = seq[bounds[0] : bounds[1]]
    return part.decode(errors="replace") if isinstance(part, bytes) else list(part)


def _length(item: Any) -> int:
    if item is None:
        raise GoPanic("len of nil pointer")
    if item is MISSING:
        raise GoPanic("reflect: call of reflect.Value.Type on zero Value")
    if isinstance(item, str):
        return len(item.encode())
    if isinstance(item, list | tuple | dict):
        return len(item)
    raise GoPanic(f"len of type {go_type(item)}")


def _basic_kind(value: Any) -> str | None:
    if value is None or value is MISSING:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    return None


def _eq(arg1: Any, *others: Any) -> bool:
    a = _indirect(arg1)
    if not others:
        raise GoPanic("missing argument for comparison")
    k1 = _basic_kind(a)
    for other in others:
        b = _indirect(other)
        k2 = _basic_kind(b)
        if k1 != k2:
            if a is not MISSING and b is not MISSING:
                raise GoPanic("incompatible types for comparison")
            truth = False
        elif k1 is not None:
            truth = a == b
        elif a is MISSING or b is MISSING:
            truth = (a is MISSING) == (b is MISSING)
        else:
            if go_type(a) != go_type(b):
                raise GoPanic(f"non-comparable types {_fmt_v(a)}: {go_type(a)}, {go_type(b)}: {_fmt_v(b)}")
            if not isinstance(a, GoStruct):
                raise GoPanic(f"non-comparable type {_fmt_v(b)}: {go_type(b)}")
            truth = a == b
        if truth:
            return True
    return False


def _ne(arg1: Any, arg2: Any) -> bool:
    return not _eq(arg1, arg2)


def _lt(arg1: Any, arg2: Any) -> bool:
    a, b = _indirect(arg1), _indirect(arg2)
    k1, k2 = _basic_kind(a), _basic_kind(b)
    if k1 is None or k2 is None:
        raise GoPanic("invalid type for comparison")
    if k1 != k2:
        raise GoPanic("incompatible types for comparison")
    if k1 == "bool":
        raise GoPanic("invalid type for comparison")
    return bool(a < b)


def _le(arg1: Any, arg2: Any) -> bool:
    return _lt(arg1, arg2) or _eq(arg1, arg2)


def _gt(arg1: Any, arg2: Any) -> bool:
    return not _le(arg1, arg2)


def _ge(arg1: Any, arg2: Any) -> bool:
    return not _lt(arg1, arg2)


def _not(arg: Any) -> bool:
    return not is_true(arg)


def _eval_args(args: tuple[Any, ...]) -> str:
    if len(args) == 1 and isinstance(args[0], str):
        return args[0]
    return sprint(*args)


_HTML = {'"': "&#34;", "'": "&#39;", "&": "&amp;", "<": "&lt;", ">": "&gt;", "\0": "\ufffd"}


def _html(*args: Any) -> str:
    return "".join(_HTML.get(c, c) for c in _eval_args(args))


def _js(*args: Any) -> str:
    out: list[str] = []
    for ch in _eval_args(args):
        if ch in "\\'\"":
            out.append("\\" + ch)
        elif ch in "<>&=":
            out.append(f"\\u{ord(ch):04X}")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or not ch.isprintable():
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return "".join(out)


def _urlquery(*args: Any) -> str:
    return urllib.parse.quote_plus(_eval_args(args), safe="-_.~")


def _call(fn: Any, *args: Any) -> Any:
    fn = _indirect(fn)
    if fn is MISSING:
        raise GoPanic("call of nil")
    if not callable(fn) or isinstance(fn, GoStruct):
        raise GoPanic(f"non-function of type {go_type(fn)}")
    return fn(*[None if a is MISSING else a for a in args])


_V = "reflect.Value"
_I = "interface {}"
_BUILTINS: dict[str, GoFunc] = {
    "and": GoFunc(lambda *a: a[-1], (_V,), _V),
    "or": GoFunc(lambda *a: a[-1], (_V,), _V),
    "not": GoFunc(_not, (_V,)),
    "len": GoFunc(_length, (_V,)),
    "index": GoFunc(_index, (_V,), _V),
    "slice": GoFunc(_slice, (_V,), _V),
    "print": GoFunc(sprint, (), _I),
    "printf": GoFunc(sprintf, ("string",), _I),
    "println": GoFunc(sprintln, (), _I),
    "eq": GoFunc(_eq, (_V,), _V),
    "ne": GoFunc(_ne, (_V, _V)),
    "lt": GoFunc(_lt, (_V, _V)),
    "le": GoFunc(_le, (_V, _V)),
    "gt": GoFunc(_gt, (_V, _V)),
    "ge": GoFunc(_ge, (_V, _V)),
    "html": GoFunc(_html, (), _I),
    "js": GoFunc(_js, (), _I),
    "urlquery": GoFunc(_urlquery, (), _I),
    "call": GoFunc(_call, (_V,), _V),
}


# ---------------------------------------------------------------------------------------------
# Sprig (Masterminds/sprig v3.3.0), the hermetic functions


def _strval(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, GoStruct) and _stringer(value):
        return _stringify(value)
    return _fmt_v(value)


def _strslice(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [_strval(v) for v in value if v is not None]
    if value is None:
        return []
    return [_strval(value)]


def _require_list(value: Any, what: str) -> list[Any]:
    if value is None:
        raise GoPanic("runtime error: invalid memory address or nil pointer dereference")
    if not isinstance(value, list | tuple):
        raise GoPanic(what.format(_kind(value)))
    return list(value)


def _go_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual on our values (types must match: 1 and 1.0 differ, true and 1 differ)."""
    if go_type(a) != go_type(b):
        return False
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_go_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_go_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _empty(value: Any) -> bool:
    if value is None or value is MISSING:
        return True
    if isinstance(value, GoStruct):
        return False
    if isinstance(value, bool | int | float | str | list | tuple | dict):
        return not is_true(value)
    return False


def _wrap_int64(value: int) -> Int64:
    return Int64(((value + 2**63) % 2**64) - 2**63)


def _to_int64(value: Any) -> Int64:
    """spf13/cast ToInt64 (errors give 0)."""
    if value is None or value is MISSING:
        return Int64(0)
    if isinstance(value, bool):
        return Int64(1 if value else 0)
    if isinstance(value, int):
        return _wrap_int64(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return Int64(-(2**63))
        return _wrap_int64(int(value))
    if isinstance(value, str):
        text = re.sub(r"\.0+$", "", value)  # cast's trimZeroDecimal: "12.00" is 12
        parsed = go_parse_int(text)
        return Int64(0) if parsed is None or not -(2**63) <= parsed < 2**63 else Int64(parsed)
    return Int64(0)


def _to_float64(value: Any) -> float:
    if value is None or value is MISSING:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        parsed = _go_parse_float(value)
        return 0.0 if parsed is None else parsed
    return 0.0


def _atoi(text: str) -> int:
    return int(text) if re.fullmatch(r"[+-]?[0-9]+", text) and -(2**63) <= int(text) < 2**63 else 0


def _div(a: Any, b: Any) -> Int64:
    x, y = _to_int64(a), _to_int64(b)
    if y == 0:
        raise GoPanic("runtime error: integer divide by zero")
    q = abs(x) // abs(y)
    return _wrap_int64(q if (x >= 0) == (y >= 0) else -q)


def _mod(a: Any, b: Any) -> Int64:
    x, y = _to_int64(a), _to_int64(b)
    if y == 0:
        raise GoPanic("runtime error: integer divide by zero")
    r = abs(x) % abs(y)
    return Int64(r if x >= 0 else -r)


def _round(value: Any, places: int, *round_on: float) -> float:
    on = round_on[0] if round_on else 0.5
    pow_ = 10.0 ** float(places)
    digit = pow_ * _to_float64(value)
    frac = math.modf(digit)[0]
    return float((math.ceil(digit) if frac >= on else math.floor(digit)) / pow_)


def _until_step(start: int, stop: int, step: int) -> list[int]:
    if stop < start:
        return list(range(start, stop, step)) if step < 0 else []
    return list(range(start, stop, step)) if step > 0 else []


def _seq(*params: int) -> str:
    if len(params) == 1:
        end = params[0]
        inc = -1 if end < 1 else 1
        values = _until_step(1, end + inc, inc)
    elif len(params) == 2:
        start, end = params
        step = -1 if end < start else 1
        values = _until_step(start, end + step, step)
    elif len(params) == 3:
        start, step, end = params
        inc = 1
        if end < start:
            inc = -1
            if step > 0:
                return ""
        values = _until_step(start, end + inc, step)
    else:
        return ""
    return " ".join(str(v) for v in values)


def _substr(start: int, end: int, text: str) -> str:
    if start < 0:
        if end > len(text) or end < 0:
            raise GoPanic(f"runtime error: slice bounds out of range [:{end}] with length {len(text)}")
        return text[:end]
    if end < 0 or end > len(text):
        if start > len(text):
            raise GoPanic(f"runtime error: slice bounds out of range [{start}:{len(text)}]")
        return text[start:]
    if start > end:
        raise GoPanic(f"runtime error: slice bounds out of range [{start}:{end}]")
    return text[start:end]


def _trunc(count: int, text: str) -> str:
    if count < 0 and len(text) + count > 0:
        return text[len(text) + count :]
    if count >= 0 and len(text) > count:
        return text[:count]
    return text


def _abbrev(width: int, text: str) -> str:
    if width < 4 or len(text) <= width:
        return text
    return text[: width - 3] + "..."


def _initials(text: str) -> str:
    out: list[str] = []
    gap = True
    for ch in text:
        if ch.isspace():
            gap = True
        elif gap:
            out.append(ch)
            gap = False
    return "".join(out)


def _title(text: str) -> str:
    out: list[str] = []
    prev = " "
    for ch in text:
        out.append(ch.upper() if _is_separator(prev) else ch)
        prev = ch
    return "".join(out)


def _is_separator(ch: str) -> bool:
    if ord(ch) <= 0x7F:
        return not (ch.isalnum() or ch == "_")
    if ch.isalpha() or ch.isdigit():
        return False
    return ch.isspace()


def _untitle(text: str) -> str:
    return text[:1].lower() + text[1:]


def _wrap(width: int, text: str, newline: str = "\n", long_words: bool = False) -> str:
    """goutils WrapCustom."""
    if text == "":
        return ""
    width = max(width, 1)
    out: list[str] = []
    offset = 0
    n = len(text)
    while n - offset > width:
        if text[offset] == " ":
            offset += 1
            continue
        space = text.rfind(" ", offset, width + offset + 1)
        if space >= offset:
            out.append(text[offset:space] + newline)
            offset = space + 1
        elif long_words:
            out.append(text[offset : offset + width] + newline)
            offset += width
        else:
            index = text.find(" ", width + offset)
            if index == -1:
                out.append(text[offset:])
                offset = n
            else:
                out.append(text[offset:index] + newline)
                offset = index + 1
    out.append(text[offset:])
    return "".join(out)


def _is_connector(ch: str) -> bool:
    return ch in "-_" or ch.isspace()


def _pascal_case(text: str) -> str:
    """xstrings ToPascalCase (Sprig's camelcase)."""
    if not text:
        return ""
    out: list[str] = []
    chars = list(text)
    i = 0
    r0 = ""
    while i < len(chars):
        r0 = chars[i]
        i += 1
        if not _is_connector(r0):
            r0 = r0.upper()
            break
        out.append(r0)
    if i >= len(chars):  # xstrings writes the last rune again when all runes were read
        out.append(r0)
        return "".join(out)
    while i < len(chars):
        r1, r0 = r0, chars[i]
        i += 1
        if _is_connector(r0) and _is_connector(r1):
            out.append(r1)
            continue
        if _is_connector(r1):
            r0 = r0.upper()
        else:
            out.append(r1)
    out.append(r0)
    return "".join(out)


_NUMBER_W, _UPPER_W, _ALPHA_W, _CONNECTOR_W, _PUNCT_W, _OTHER_W, _NONE_W = range(7)


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P")


def _is_number(ch: str) -> bool:
    return unicodedata.category(ch).startswith("N")


def _next_word(text: str) -> tuple[int, str, str]:
    if not text:
        return _NONE_W, "", ""
    ch = text[0]
    i = 1
    n = len(text)
    if _is_connector(ch):
        while i < n and _is_connector(text[i]):
            i += 1
        return _CONNECTOR_W, text[:i], text[i:]
    if _is_punct(ch):
        while i < n and _is_punct(text[i]):
            i += 1
        return _PUNCT_W, text[:i], text[i:]
    if ch.isupper():
        if i < n and text[i].isupper():
            while i < n and text[i].isupper():
                i += 1
            if i < n and text[i].isalpha():  # "HTTPStatus": the S starts the next word
                i -= 1
        elif i < n and text[i].isalpha():
            while i < n and text[i].isalpha() and not text[i].isupper():
                i += 1
        return _UPPER_W, text[:i], text[i:]
    if ch.isalpha():
        while i < n and text[i].isalpha() and not text[i].isupper():
            i += 1
        return _ALPHA_W, text[:i], text[i:]
    if _is_number(ch):
        while i < n and _is_number(text[i]):
            i += 1
        return _NUMBER_W, text[:i], text[i:]
    while i < n and not (
        _is_connector(text[i]) or text[i].isalpha() or _is_number(text[i]) or _is_punct(text[i])
    ):
        i += 1
    return _OTHER_W, text[:i], text[i:]


def _lower_word(out: list[str], kind: int, word: str, connector: str) -> None:
    if kind not in (_UPPER_W, _CONNECTOR_W):
        out.append(word)
        return
    for ch in word:
        out.append(connector if _is_connector(ch) else ch.lower())


def _camel_to_lower(text: str, connector: str) -> str:
    """xstrings camelCaseToLowerCase (snakecase, kebabcase)."""
    if not text:
        return ""
    out: list[str] = []
    kind, word, rest = _next_word(text)
    while rest:
        if kind != _CONNECTOR_W:
            _lower_word(out, kind, word, connector)
        prev, last = kind, word
        kind, word, rest = _next_word(rest)
        if prev == _NUMBER_W:
            while kind in (_ALPHA_W, _NUMBER_W):
                _lower_word(out, kind, word, connector)
                kind, word, rest = _next_word(rest)
            if kind not in (_NONE_W, _PUNCT_W, _CONNECTOR_W):
                out.append(connector)
        elif prev == _CONNECTOR_W:
            _lower_word(out, prev, last, connector)
        elif prev == _PUNCT_W:
            pass
        else:
            if kind != _NUMBER_W:
                if kind not in (_CONNECTOR_W, _PUNCT_W):
                    out.append(connector)
                continue
            if not rest:
                continue
            last = word
            kind, word, rest = _next_word(rest)
            if kind != _ALPHA_W:
                _lower_word(out, _NUMBER_W, last, connector)
                if kind not in (_CONNECTOR_W, _PUNCT_W):
                    out.append(connector)
                continue
            out.append(connector)
            _lower_word(out, _NUMBER_W, last, connector)
            while kind in (_ALPHA_W, _NUMBER_W):
                _lower_word(out, kind, word, connector)
                kind, word, rest = _next_word(rest)
            if kind not in (_NONE_W, _CONNECTOR_W, _PUNCT_W):
                out.append(connector)
    _lower_word(out, kind, word, connector)
    return "".join(out)


def _go_split(text: str, sep: str, n: int = -1) -> list[str]:
    if n == 0:
        return []
    if sep == "":
        chars = list(text)
        if 0 < n < len(chars):
            return [*chars[: n - 1], "".join(chars[n - 1 :])]
        return chars
    return text.split(sep, n - 1) if n > 0 else text.split(sep)


def _split_map(parts: list[str]) -> GoMap:
    return GoMap("map[string]string", {f"_{i}": p for i, p in enumerate(parts)}, zero="")


def _default(default: Any, *given: Any) -> Any:
    if not given or _empty(given[0]):
        return default
    return given[0]


def _coalesce(*values: Any) -> Any:
    for value in values:
        if not _empty(value):
            return value
    return None


def _first(value: Any) -> Any:
    items = _require_list(value, "Cannot find first on type {}")
    return items[0] if items else None


def _last(value: Any) -> Any:
    items = _require_list(value, "Cannot find last on type {}")
    return items[-1] if items else None


def _rest(value: Any) -> list[Any]:
    return _require_list(value, "Cannot find rest on type {}")[1:]


def _initial(value: Any) -> list[Any]:
    return _require_list(value, "Cannot find initial on type {}")[:-1]


def _uniq(value: Any) -> list[Any]:
    out: list[Any] = []
    for item in _require_list(value, "Cannot find uniq on type {}"):
        if not any(_go_equal(item, seen) for seen in out):
            out.append(item)
    return out


def _without(value: Any, *omit: Any) -> list[Any]:
    items = _require_list(value, "Cannot find without on type {}")
    return [i for i in items if not any(_go_equal(i, o) for o in omit)]


def _has(needle: Any, haystack: Any) -> bool:
    if haystack is None:
        return False
    items = _require_list(haystack, "Cannot find has on type {}")
    return any(_go_equal(needle, i) for i in items)


def _sprig_slice(value: Any, *indices: Any) -> Any:
    items = _require_list(value, "list should be type of slice or array but {}")
    if not items:
        return None
    start = int(_to_int64(indices[0])) if indices else 0
    end = int(_to_int64(indices[1])) if len(indices) > 1 else len(items)
    if not 0 <= start <= end <= len(items):
        raise GoPanic("reflect: slice index out of range")
    return items[start:end]


def _concat(*lists: Any) -> list[Any]:
    out: list[Any] = []
    for value in lists:
        out.extend(_require_list(value, "Cannot concat type {} as list"))
    return out


def _sort_alpha(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return sorted(_strslice(value))
    return [_strval(value)]


def _merge(dst: dict[str, Any], *srcs: dict[str, Any]) -> Any:
    for src in srcs:
        _merge_into(dst, src, overwrite=False)
    return dst


def _merge_overwrite(dst: dict[str, Any], *srcs: dict[str, Any]) -> Any:
    for src in srcs:
        _merge_into(dst, src, overwrite=True)
    return dst


def _merge_into(dst: dict[Any, Any], src: Mapping[Any, Any], overwrite: bool) -> None:
    for key, value in (src or {}).items():
        current = dst.get(key, MISSING)
        if isinstance(current, dict) and isinstance(value, dict):
            _merge_into(current, value, overwrite)
        elif current is MISSING or _empty(current) or (overwrite and not _empty(value)):
            dst[key] = value


def _to_json(value: Any, indent: str = "", escape_html: bool = True) -> str:
    try:
        return _json(value, indent, "", escape_html)
    except GoPanic:
        return ""


def _must_to_json(value: Any) -> str:
    return _json(value, "", "", True)


def _json(value: Any, indent: str, prefix: str, escape_html: bool) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise GoPanic(f"json: unsupported value: {_go_float(value)}")
        return _json_float(value)
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        if escape_html:
            text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    inner = prefix + indent
    sep = ":" if not indent else ": "
    if isinstance(value, dict):
        if not value:
            return "{}"
        members: list[tuple[str, Any]] = []
        for key, item in value.items():
            if isinstance(key, str):
                members.append((key, item))
            elif isinstance(key, int) and not isinstance(key, bool):
                members.append((str(int(key)), item))
            else:
                raise GoPanic(f"json: unsupported type: {go_type(value)}")
        members.sort()
        return _json_members([(k, v) for k, v in members], indent, inner, prefix, sep, escape_html)
    if isinstance(value, GoStruct):
        return _json_members(_json_fields(value), indent, inner, prefix, sep, escape_html)
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        parts = [_json(v, indent, inner, escape_html) for v in value]
        if not indent:
            return "[" + ",".join(parts) + "]"
        return "[\n" + ",\n".join(inner + p for p in parts) + "\n" + prefix + "]"
    raise GoPanic(f"json: unsupported type: {go_type(value)}")


def _json_fields(struct: GoStruct) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in struct.fields:
        if key in struct.embedded and isinstance(value, GoStruct):
            out.extend(_json_fields(value))
        elif key[:1].isupper():
            out.append((key, value))
    return out


def _json_members(
    members: list[tuple[str, Any]], indent: str, inner: str, prefix: str, sep: str, escape_html: bool
) -> str:
    if not members:
        return "{}"
    parts = [_json(k, "", "", escape_html) + sep + _json(v, indent, inner, escape_html) for k, v in members]
    if not indent:
        return "{" + ",".join(parts) + "}"
    return "{\n" + ",\n".join(inner + p for p in parts) + "\n" + prefix + "}"


def _json_float(value: float) -> str:
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    exponent = math.floor(math.log10(abs(value)))
    if abs(value) < 1e-6 or abs(value) >= 1e21 or exponent < -6:
        text = _shortest(value, "e")
        return re.sub(r"e([+-])0(\d)$", r"e\1\2", text)
    return _shortest(value, "f")


def _from_json(text: str) -> Any:
    try:
        return json.loads(text, parse_int=float, parse_constant=_no_constant)
    except ValueError:
        return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"invalid character {name[0]!r} looking for beginning of value")


def _b64dec(text: str) -> str:
    cleaned = text.replace("\r", "").replace("\n", "")
    try:
        return base64.b64decode(cleaned, validate=True).decode(errors="replace")
    except (binascii.Error, ValueError):
        bad = next((i for i, c in enumerate(cleaned) if c not in _B64), len(cleaned) // 4 * 4)
        return f"illegal base64 data at input byte {bad}"


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")


def _b32dec(text: str) -> str:
    try:
        return base64.b32decode(text.replace("\r", "").replace("\n", "")).decode(errors="replace")
    except (binascii.Error, ValueError):
        return "illegal base32 data at input byte 0"


def _must_compile(pattern: str) -> goregexp.GoRegexp:
    try:
        return goregexp.compile_go(pattern)
    except goregexp.GoRegexpError as exc:
        quoted = f"`{pattern}`" if "`" not in pattern else semver.go_quote(pattern)
        raise GoPanic(f"regexp: Compile({quoted}): {exc}") from None


def _all_matches(regexp: goregexp.GoRegexp, text: str, n: int) -> list[re.Match[str]]:
    """Go's allMatches: no empty match right after a previous match."""
    if n < 0:
        n = len(text) + 1
    out: list[re.Match[str]] = []
    pos = 0
    prev_end = -1
    while len(out) < n and pos <= len(text):
        match = regexp.python.search(text, pos)
        if match is None:
            break
        accept = True
        if match.end() == pos:
            if match.start() == prev_end:
                accept = False
            pos += 1
        else:
            pos = match.end()
        prev_end = match.end()
        if accept:
            out.append(match)
    return out


def _regex_match(pattern: str, text: str) -> bool:
    try:
        return goregexp.compile_go(pattern).search(text) is not None
    except goregexp.GoRegexpError:
        return False


def _regex_find(pattern: str, text: str) -> str:
    match = _must_compile(pattern).search(text)
    return match.group(0) if match else ""


def _regex_find_all(pattern: str, text: str, n: int) -> list[str]:
    return [m.group(0) for m in _all_matches(_must_compile(pattern), text, n)]


def _replace_all(regexp: goregexp.GoRegexp, text: str, repl: Callable[[re.Match[str]], str]) -> str:
    out: list[str] = []
    last = 0
    search = 0
    while search <= len(text):
        match = regexp.python.search(text, search)
        if match is None:
            break
        out.append(text[last : match.start()])
        if match.end() > last or match.start() == 0:
            out.append(repl(match))
        last = match.end()
        search = search + 1 if search + 1 > match.end() else match.end()
    out.append(text[last:])
    return "".join(out)


def _regex_replace_all(pattern: str, text: str, repl: str) -> str:
    regexp = _must_compile(pattern)
    return _replace_all(regexp, text, lambda m: regexp.expand(repl, m))


def _regex_replace_all_literal(pattern: str, text: str, repl: str) -> str:
    return _replace_all(_must_compile(pattern), text, lambda _: repl)


def _regex_split(pattern: str, text: str, n: int) -> list[str]:
    if n == 0:
        return []
    regexp = _must_compile(pattern)
    if pattern and text == "":
        return [""]
    out: list[str] = []
    beg = end = 0
    for match in _all_matches(regexp, text, n):
        if n > 0 and len(out) == n - 1:
            break
        end = match.start()
        if match.end() != 0:
            out.append(text[beg:end])
        beg = match.end()
    if end != len(text):
        out.append(text[beg:])
    return out


def _quote_meta(text: str) -> str:
    return "".join("\\" + c if c in "\\.+*?()|[]{}^$" else c for c in text)


_LOOSE_VERSION = re.compile(r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


def _semver_compare(constraint: str, version: str) -> bool:
    try:
        rule = semver.Constraint(constraint)
    except semver.SemverError as exc:
        raise GoPanic(str(exc)) from None
    match = _LOOSE_VERSION.fullmatch(version)
    if match is None:
        raise GoPanic("Invalid Semantic Version")
    text = f"{match[1]}{match[2] or '.0'}{match[3] or '.0'}{match[4] or ''}{match[5] or ''}"
    try:
        parsed = semver.parse_version(text)
    except semver.SemverError:
        raise GoPanic("Invalid Semantic Version") from None
    return rule.check(parsed)


def _path_clean(path: str) -> str:
    if path == "":
        return "."
    rooted = path.startswith("/")
    parts: list[str] = []
    for element in path.split("/"):
        if element in ("", "."):
            continue
        if element == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            elif not rooted:
                parts.append("..")
            continue
        parts.append(element)
    joined = "/".join(parts)
    if rooted:
        return "/" + joined
    return joined or "."


def _path_base(path: str) -> str:
    if path == "":
        return "."
    stripped = path.rstrip("/")
    if stripped == "":
        return "/"
    return stripped[stripped.rfind("/") + 1 :]


def _path_dir(path: str) -> str:
    return _path_clean(path[: path.rfind("/") + 1])


def _path_ext(path: str) -> str:
    for i in range(len(path) - 1, -1, -1):
        if path[i] == "/":
            break
        if path[i] == ".":
            return path[i:]
    return ""


def _dict(*pairs: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i in range(0, len(pairs), 2):
        key = _strval(pairs[i])
        out[key] = pairs[i + 1] if i + 1 < len(pairs) else ""
    return out


def _keys(*dicts: dict[str, Any]) -> list[str]:
    return [k for d in dicts for k in sorted(d or {})]


def _values(mapping: dict[str, Any]) -> list[Any]:
    return [v for _, v in sorted((mapping or {}).items())]


def _push(value: Any, item: Any) -> list[Any]:
    return [*_require_list(value, "Cannot push on type {}"), item]


def _prepend(value: Any, item: Any) -> list[Any]:
    return [item, *_require_list(value, "Cannot prepend on type {}")]


def _reverse(value: Any) -> list[Any]:
    return _require_list(value, "Cannot find reverse on type {}")[::-1]


def _compact(value: Any) -> list[Any]:
    return [i for i in _require_list(value, "Cannot compact on type {}") if not _empty(i)]


def _repeat(count: int, text: str) -> str:
    if count < 0:
        raise GoPanic("strings: negative Repeat count")
    return text * count


def _fail(message: str) -> str:
    raise GoPanic(message)


def _set(mapping: dict[str, Any], key: str, value: Any) -> dict[str, Any]:
    mapping[key] = value
    return mapping


def _unset(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    mapping.pop(key, None)
    return mapping


def _to_decimal(value: Any) -> Int64:
    """Sprig's toDecimal: the value's text read as an octal number (0 when it is not one)."""
    text = _fmt_v(value)
    if not re.fullmatch(r"[+-]?[0-7]+", text) or not -(2**63) <= int(text, 8) < 2**63:
        return Int64(0)
    return Int64(int(text, 8))


_S, _N, _F, _B, _M = "string", "int", "float64", "bool", "map[string]interface {}"


def _hermetic() -> dict[str, GoFunc]:
    f = GoFunc
    funcs: dict[str, GoFunc] = {
        "hello": f(lambda: "Hello!", ()),
        # strings
        "abbrev": f(_abbrev, (_N, _S)),
        "trunc": f(_trunc, (_N, _S)),
        "trim": f(lambda s: s.strip(), (_S,)),
        "upper": f(str.upper, (_S,)),
        "lower": f(str.lower, (_S,)),
        "title": f(_title, (_S,)),
        "untitle": f(_untitle, (_S,)),
        "substr": f(_substr, (_N, _N, _S)),
        "repeat": f(_repeat, (_N, _S)),
        "trimall": f(lambda a, b: b.strip(a), (_S, _S)),
        "trimAll": f(lambda a, b: b.strip(a), (_S, _S)),
        "trimSuffix": f(lambda a, b: b.removesuffix(a), (_S, _S)),
        "trimPrefix": f(lambda a, b: b.removeprefix(a), (_S, _S)),
        "nospace": f(lambda s: "".join(c for c in s if not c.isspace()), (_S,)),
        "initials": f(_initials, (_S,)),
        "snakecase": f(lambda s: _camel_to_lower(s, "_"), (_S,)),
        "camelcase": f(_pascal_case, (_S,)),
        "kebabcase": f(lambda s: _camel_to_lower(s, "-"), (_S,)),
        "wrap": f(lambda n, s: _wrap(n, s), (_N, _S)),
        "wrapWith": f(lambda n, sep, s: _wrap(n, s, sep or "\n", True), (_N, _S, _S)),
        "contains": f(lambda sub, s: sub in s, (_S, _S)),
        "hasPrefix": f(lambda p, s: s.startswith(p), (_S, _S)),
        "hasSuffix": f(lambda p, s: s.endswith(p), (_S, _S)),
        "quote": f(lambda *v: " ".join(semver.go_quote(_strval(x)) for x in v if x is not None), (), _I),
        "squote": f(lambda *v: " ".join(f"'{_fmt_v(x)}'" for x in v if x is not None), (), _I),
        "cat": f(lambda *v: " ".join(_fmt_v(x) for x in v if x is not None), (), _I),
        "indent": f(lambda n, s: " " * n + s.replace("\n", "\n" + " " * n), (_N, _S)),
        "nindent": f(lambda n, s: "\n" + " " * n + s.replace("\n", "\n" + " " * n), (_N, _S)),
        "replace": f(lambda old, new, s: s.replace(old, new), (_S, _S, _S)),
        "plural": f(lambda one, many, n: one if n == 1 else many, (_S, _S, _N)),
        "sha1sum": f(lambda s: hashlib.sha1(s.encode()).hexdigest(), (_S,)),
        "sha256sum": f(lambda s: hashlib.sha256(s.encode()).hexdigest(), (_S,)),
        "sha512sum": f(lambda s: hashlib.sha512(s.encode()).hexdigest(), (_S,)),
        "adler32sum": f(lambda s: str(zlib.adler32(s.encode())), (_S,)),
        "toString": f(_strval, (_I,)),
        "atoi": f(_atoi, (_S,)),
        "int64": f(_to_int64, (_I,)),
        "int": f(lambda v: int(_to_int64(v)), (_I,)),
        "float64": f(_to_float64, (_I,)),
        "seq": f(_seq, (), _N),
        "toDecimal": f(_to_decimal, (_I,)),
        "split": f(lambda sep, s: _split_map(_go_split(s, sep)), (_S, _S)),
        "splitList": f(lambda sep, s: _go_split(s, sep), (_S, _S)),
        "splitn": f(lambda sep, n, s: _split_map(_go_split(s, sep, n)), (_S, _N, _S)),
        "toStrings": f(_strslice, (_I,)),
        "until": f(lambda n: _until_step(0, n, -1 if n < 0 else 1), (_N,)),
        "untilStep": f(_until_step, (_N, _N, _N)),
        # arithmetic
        "add1": f(lambda v: _wrap_int64(_to_int64(v) + 1), (_I,)),
        "add": f(lambda *v: _wrap_int64(sum(_to_int64(x) for x in v)), (), _I),
        "sub": f(lambda a, b: _wrap_int64(_to_int64(a) - _to_int64(b)), (_I, _I)),
        "div": f(_div, (_I, _I)),
        "mod": f(_mod, (_I, _I)),
        "mul": f(lambda a, *v: _wrap_int64(math.prod([_to_int64(a), *(_to_int64(x) for x in v)])), (_I,), _I),
        "biggest": f(lambda a, *v: Int64(max([_to_int64(a), *(_to_int64(x) for x in v)])), (_I,), _I),
        "max": f(lambda a, *v: Int64(max([_to_int64(a), *(_to_int64(x) for x in v)])), (_I,), _I),
        "min": f(lambda a, *v: Int64(min([_to_int64(a), *(_to_int64(x) for x in v)])), (_I,), _I),
        "maxf": f(lambda a, *v: max([_to_float64(a), *(_to_float64(x) for x in v)]), (_I,), _I),
        "minf": f(lambda a, *v: min([_to_float64(a), *(_to_float64(x) for x in v)]), (_I,), _I),
        "ceil": f(lambda a: float(math.ceil(_to_float64(a))), (_I,)),
        "floor": f(lambda a: float(math.floor(_to_float64(a))), (_I,)),
        "round": f(_round, (_I, _N), _F),
        # string slices
        "join": f(lambda sep, v: sep.join(_strslice(v)), (_S, _I)),
        "sortAlpha": f(_sort_alpha, (_I,)),
        # defaults
        "default": f(_default, (_I,), _I),
        "empty": f(_empty, (_I,)),
        "coalesce": f(_coalesce, (), _I),
        "all": f(lambda *v: all(not _empty(x) for x in v), (), _I),
        "any": f(lambda *v: any(not _empty(x) for x in v), (), _I),
        "compact": f(_compact, (_I,)),
        "mustCompact": f(_compact, (_I,)),
        "fromJson": f(_from_json, (_S,)),
        "toJson": f(_to_json, (_I,)),
        "toPrettyJson": f(lambda v: _to_json(v, "  "), (_I,)),
        "toRawJson": f(lambda v: _json(v, "", "", False), (_I,)),
        "mustFromJson": f(lambda s: json.loads(s, parse_int=float), (_S,)),
        "mustToJson": f(_must_to_json, (_I,)),
        "mustToPrettyJson": f(lambda v: _json(v, "  ", "", True), (_I,)),
        "mustToRawJson": f(lambda v: _json(v, "", "", False), (_I,)),
        "ternary": f(lambda t, e, cond: t if cond else e, (_I, _I, _B)),
        # reflection
        "typeOf": f(go_type, (_I,)),
        "typeIs": f(lambda t, v: t == go_type(v), (_S, _I)),
        "typeIsLike": f(lambda t, v: go_type(v) in (t, "*" + t), (_S, _I)),
        "kindOf": f(_kind, (_I,)),
        "kindIs": f(lambda k, v: k == _kind(v), (_S, _I)),
        "deepEqual": f(_go_equal, (_I, _I)),
        # paths
        "base": f(_path_base, (_S,)),
        "dir": f(_path_dir, (_S,)),
        "clean": f(_path_clean, (_S,)),
        "ext": f(_path_ext, (_S,)),
        "isAbs": f(lambda p: p.startswith("/"), (_S,)),
        "osBase": f(_path_base, (_S,)),
        "osClean": f(_path_clean, (_S,)),
        "osDir": f(_path_dir, (_S,)),
        "osExt": f(_path_ext, (_S,)),
        "osIsAbs": f(lambda p: p.startswith("/"), (_S,)),
        # encoding
        "b64enc": f(lambda s: base64.b64encode(s.encode()).decode(), (_S,)),
        "b64dec": f(_b64dec, (_S,)),
        "b32enc": f(lambda s: base64.b32encode(s.encode()).decode(), (_S,)),
        "b32dec": f(_b32dec, (_S,)),
        # data structures
        "tuple": f(lambda *v: list(v), (), _I),
        "list": f(lambda *v: list(v), (), _I),
        "dict": f(_dict, (), _I),
        "get": f(lambda d, k: (d or {}).get(k, ""), (_M, _S)),
        "set": f(_set, (_M, _S, _I)),
        "unset": f(_unset, (_M, _S)),
        "hasKey": f(lambda d, k: k in (d or {}), (_M, _S)),
        "pluck": f(lambda k, *ds: [d[k] for d in ds if d and k in d], (_S,), _M),
        "keys": f(_keys, (), _M),
        "pick": f(lambda d, *ks: {k: d[k] for k in ks if d and k in d}, (_M,), _S),
        "omit": f(lambda d, *ks: {k: v for k, v in (d or {}).items() if k not in ks}, (_M,), _S),
        "merge": f(_merge, (_M,), _M),
        "mergeOverwrite": f(_merge_overwrite, (_M,), _M),
        "mustMerge": f(_merge, (_M,), _M),
        "mustMergeOverwrite": f(_merge_overwrite, (_M,), _M),
        "values": f(_values, (_M,)),
        "append": f(_push, (_I, _I)),
        "push": f(_push, (_I, _I)),
        "mustAppend": f(_push, (_I, _I)),
        "mustPush": f(_push, (_I, _I)),
        "prepend": f(_prepend, (_I, _I)),
        "mustPrepend": f(_prepend, (_I, _I)),
        "first": f(_first, (_I,)),
        "mustFirst": f(_first, (_I,)),
        "rest": f(_rest, (_I,)),
        "mustRest": f(_rest, (_I,)),
        "last": f(_last, (_I,)),
        "mustLast": f(_last, (_I,)),
        "initial": f(_initial, (_I,)),
        "mustInitial": f(_initial, (_I,)),
        "reverse": f(_reverse, (_I,)),
        "mustReverse": f(_reverse, (_I,)),
        "uniq": f(_uniq, (_I,)),
        "mustUniq": f(_uniq, (_I,)),
        "without": f(_without, (_I,), _I),
        "mustWithout": f(_without, (_I,), _I),
        "has": f(_has, (_I, _I)),
        "mustHas": f(_has, (_I, _I)),
        "slice": f(_sprig_slice, (_I,), _I),
        "mustSlice": f(_sprig_slice, (_I,), _I),
        "concat": f(_concat, (), _I),
        # semver
        "semverCompare": f(_semver_compare, (_S, _S)),
        # flow control
        "fail": f(_fail, (_S,)),
        # regular expressions (Go's RE2)
        "regexMatch": f(_regex_match, (_S, _S)),
        "mustRegexMatch": f(lambda p, s: _must_compile(p).search(s) is not None, (_S, _S)),
        "regexFindAll": f(_regex_find_all, (_S, _S, _N)),
        "mustRegexFindAll": f(_regex_find_all, (_S, _S, _N)),
        "regexFind": f(_regex_find, (_S, _S)),
        "mustRegexFind": f(_regex_find, (_S, _S)),
        "regexReplaceAll": f(_regex_replace_all, (_S, _S, _S)),
        "mustRegexReplaceAll": f(_regex_replace_all, (_S, _S, _S)),
        "regexReplaceAllLiteral": f(_regex_replace_all_literal, (_S, _S, _S)),
        "mustRegexReplaceAllLiteral": f(_regex_replace_all_literal, (_S, _S, _S)),
        "regexSplit": f(_regex_split, (_S, _S, _N)),
        "mustRegexSplit": f(_regex_split, (_S, _S, _N)),
        "regexQuoteMeta": f(_quote_meta, (_S,)),
    }
    return funcs


HERMETIC_FUNCS: Mapping[str, Callable[..., Any]] = _hermetic()

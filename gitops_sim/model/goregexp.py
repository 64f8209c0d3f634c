"""Go regular expressions (RE2, as `regexp.Compile` reads them) on Python's `re`.

`compile_go(pattern)` parses a pattern as Go's `regexp/syntax` does with Perl flags, raising Go's
own errors (`GoRegexpError`: `error parsing regexp: <code>: `<expr>``), and returns a
`GoRegexp` whose `python` pattern matches what Go's would; `GoRegexp.expand` is Go's
`Regexp.ExpandString` (`$1`, `$name`, `${name}`, `$$`).

IMPLEMENTATION DETAIL:
    Problem: Flux compiles `pattern` with Go's RE2 syntax, which Python's `re` reads differently:
    `\\z` vs `\\Z`, `$` before a final newline, `[[:alpha:]]`, `\\pL`, `\\Q...\\E`, flags such as
    `(?i)` in mid-pattern or `(?U)`, `{,3}` (a literal in Go), duplicate group names (allowed in
    Go), look-arounds and back-references (errors in Go), and Go reports errors in its own words.
    Solution: `compile_go` parses the pattern as `regexp/syntax` does (Perl flags), raising Go's
    errors, and writes an equivalent Python pattern: classes become explicit code-point ranges,
    flags are applied atom by atom, every capture group becomes a plain numbered group and the
    names are kept aside for `expand`.
    Fidelity and known gaps: `\\b`, `\\w`, `\\d`, `\\s` and case folding are ASCII (tags are
    ASCII, as the OCI distribution spec requires); `\\p{...}` knows Go's general categories and
    `Any`, not script names (refused with a message that says so); the nesting-depth and
    program-size limits (`expression nests too deeply`, `expression too large`) and the limit of
    1000 on nested repeat counts are not checked.

Provenance: behaviour of Go's regexp/syntax (parse.go, perl_groups.go, unicode tables) and
regexp (`Expand`); our own code.

Callers: the image libraries (ImagePolicy `filterTags`, ImageRepository `exclusionList`). Pure.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass


class GoRegexpError(ValueError):
    """Go's `*syntax.Error`: `error parsing regexp: <code>: `<expr>``."""

    def __init__(self, code: str, expr: str) -> None:
        super().__init__(f"error parsing regexp: {code}: `{expr}`")
        self.code = code
        self.expr = expr


@dataclass(frozen=True, slots=True)
class GoRegexp:
    """A compiled Go regexp: `python` is the equivalent Python pattern, `names` the capture
    groups' names by number (index 0 is the whole match; unnamed groups are "")."""

    source: str
    python: re.Pattern[str]
    names: tuple[str, ...]

    def search(self, text: str) -> re.Match[str] | None:
        return self.python.search(text)

    def expand(self, template: str, match: re.Match[str]) -> str:
        """Go's `Regexp.ExpandString`."""
        out: list[str] = []
        for piece in _plan(template, self.names):
            if isinstance(piece, str):
                out.append(piece)
                continue
            for i in piece:  # the first group of that name (or number) that took part
                group = match.group(i)
                if group is not None:
                    out.append(group)
                    break
        return "".join(out)


@functools.lru_cache(maxsize=256)
def _plan(template: str, names: tuple[str, ...]) -> tuple[str | tuple[int, ...], ...]:
    """`template` read once: literal text, and for each `$name`/`${n}` the groups it may name
    (a number names one group, or none past the last; a name every group of that name)."""
    pieces: list[str | tuple[int, ...]] = []
    rest = template
    while True:
        before, dollar, after = rest.partition("$")
        pieces.append(before)
        if not dollar:
            return tuple(pieces)
        if after.startswith("$"):
            pieces.append("$")
            rest = after[1:]
            continue
        name, number, rest_after = _template_name(after)
        if name is None:
            pieces.append("$")  # malformed: a raw dollar
            rest = after
            continue
        rest = rest_after
        if number is not None:
            pieces.append((number,) if number < len(names) else ())
        else:
            pieces.append(tuple(i for i, group_name in enumerate(names) if group_name == name))


def _template_name(text: str) -> tuple[str | None, int | None, str]:
    """regexp's `extract`: the name after a `$` (`name`, `{name}`), its number when it is one,
    and the rest."""
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (body[i].isalpha() or unicodedata.category(body[i]) == "Nd" or body[i] == "_"):
        i += 1
    if i == 0:
        return None, None, text
    name = body[:i]
    if brace:
        if i >= len(body) or body[i] != "}":
            return None, None, text
        i += 1
    number: int | None = None
    if name.isascii() and name.isdigit() and len(name) <= 8 and not (name[0] == "0" and len(name) > 1):
        number = int(name)
    return name, number, body[i:]


_MAX_RUNE = 0x10FFFF
_Ranges = list[tuple[int, int]]

_PERL: dict[str, _Ranges] = {
    "d": [(0x30, 0x39)],
    "s": [(0x09, 0x0A), (0x0C, 0x0D), (0x20, 0x20)],
    "w": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
}
_POSIX: dict[str, _Ranges] = {
    "alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "ascii": [(0x00, 0x7F)],
    "blank": [(0x09, 0x09), (0x20, 0x20)],
    "cntrl": [(0x00, 0x1F), (0x7F, 0x7F)],
    "digit": [(0x30, 0x39)],
    "graph": [(0x21, 0x7E)],
    "lower": [(0x61, 0x7A)],
    "print": [(0x20, 0x7E)],
    "punct": [(0x21, 0x2F), (0x3A, 0x40), (0x5B, 0x60), (0x7B, 0x7E)],
    "space": [(0x09, 0x0D), (0x20, 0x20)],
    "upper": [(0x41, 0x5A)],
    "word": [(0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A)],
    "xdigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
}
_CATEGORIES = frozenset(
    (
        *("C", "Cc", "Cf", "Co", "Cs", "L", "Ll", "Lm", "Lo", "Lt", "Lu", "M", "Mc", "Me", "Mn"),
        *("N", "Nd", "Nl", "No", "P", "Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps"),
        *("S", "Sc", "Sk", "Sm", "So", "Z", "Zl", "Zp", "Zs"),
    )
)


def _normalise(ranges: _Ranges) -> _Ranges:
    merged: _Ranges = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return merged


def _negate(ranges: _Ranges) -> _Ranges:
    out: _Ranges = []
    nxt = 0
    for lo, hi in _normalise(ranges):
        if lo > nxt:
            out.append((nxt, lo - 1))
        nxt = hi + 1
    if nxt <= _MAX_RUNE:
        out.append((nxt, _MAX_RUNE))
    return out


@functools.cache
def _category(name: str) -> tuple[tuple[int, int], ...]:
    ranges: _Ranges = []
    for code in range(_MAX_RUNE + 1):
        cat = unicodedata.category(chr(code))
        if cat != "Cn" and cat.startswith(name):
            ranges.append((code, code))
    return tuple(_normalise(ranges))


def _class_text(ranges: _Ranges, negated: bool) -> str:
    body = "".join(
        f"\\U{lo:08x}" if lo == hi else f"\\U{lo:08x}-\\U{hi:08x}" for lo, hi in _normalise(ranges)
    )
    if not body:
        return "[^\\x00-\\U0010ffff]" if not negated else "[\\x00-\\U0010ffff]"
    return f"[{'^' if negated else ''}{body}]"


class _Translator:
    """One pass over a Go pattern, as regexp/syntax's `parse` reads it with the Perl flags."""

    def __init__(self, pattern: str) -> None:
        self.src = pattern
        self.pos = 0
        self.out: list[str] = []
        self.names: list[str] = [""]
        self.flags: frozenset[str] = frozenset()
        self.frames: list[tuple[frozenset[str], int]] = []  # flags to restore, where `(` is in out
        self.atom: int | None = None  # where in `out` the last repeatable item starts
        self.atom_wrap = False  # whether it must be grouped before a quantifier
        self.last_repeat: int | None = None  # where the previous item, a repeat, started

    def translate(self) -> tuple[str, tuple[str, ...]]:
        while self.pos < len(self.src):
            repeat_start: int | None = None
            c = self.src[self.pos]
            if c == "(":
                self._open()
            elif c == ")":
                self._close()
            elif c == "|":
                self.pos += 1
                self.out.append("|")
                self.atom = None
            elif c == "^":
                self.pos += 1
                self._push("(?m:^)" if "m" in self.flags else "^", wrap=True)
            elif c == "$":
                self.pos += 1
                self._push("(?m:$)" if "m" in self.flags else "\\Z", wrap=True)
            elif c == ".":
                self.pos += 1
                self._push("(?s:.)" if "s" in self.flags else ".")
            elif c == "[":
                self._class()
            elif c in "*+?":
                repeat_start = self.pos
                self._repeat(c, self.pos + 1)
            elif c == "{":
                bounds = self._bounds()
                if bounds is None:
                    self.pos += 1
                    self._literal("{")
                else:
                    repeat_start = self.pos
                    text, end = bounds
                    self._repeat(text, end)
            elif c == "\\":
                self._escape()
            else:
                self.pos += 1
                self._literal(c)
            self.last_repeat = repeat_start
        if self.frames:
            raise GoRegexpError("missing closing )", self.src)
        return "".join(self.out), tuple(self.names)

    # -- items

    def _push(self, text: str, *, wrap: bool = False) -> None:
        self.atom = len(self.out)
        self.atom_wrap = wrap
        self.out.append(text)

    def _literal(self, ch: str) -> None:
        if "i" in self.flags and ch.lower() != ch.upper():
            self._push(f"(?i:{re.escape(ch)})")
        else:
            self._push(re.escape(ch))

    def _ranges(self, ranges: _Ranges, negated: bool = False) -> None:
        text = _class_text(ranges, negated)
        self._push(f"(?i:{text})" if "i" in self.flags else text)

    def _open(self) -> None:
        rest = self.src[self.pos :]
        if rest.startswith("(?"):
            self._perl_flags(rest)
            return
        self.pos += 1
        self._group("(", "")

    def _perl_flags(self, rest: str) -> None:
        named = (len(rest) > 4 and rest[2] == "P" and rest[3] == "<") or (len(rest) > 3 and rest[2] == "<")
        if named:
            start = 4 if rest[2] == "P" else 3
            end = rest.find(">")
            if end < 0:
                raise GoRegexpError("invalid named capture", rest)
            name = rest[start:end]
            if not name or not all(ch == "_" or (ch.isascii() and ch.isalnum()) for ch in name):
                raise GoRegexpError("invalid named capture", rest[: end + 1])
            self.pos += end + 1
            self._group("(", name)
            return
        flags = set(self.flags)
        negate = False
        saw = False
        i = 2
        while i < len(rest):
            ch = rest[i]
            i += 1
            if ch in "imsU":
                (flags.discard if negate else flags.add)(ch)
                saw = True
            elif ch == "-" and not negate:
                negate, saw = True, False
            elif ch in ":)" and not (negate and not saw):
                self.pos += i
                if ch == ":":
                    self._group("(?:", None)
                self.flags = frozenset(flags)
                return
            else:
                break
        raise GoRegexpError("invalid or unsupported Perl syntax", rest[:i])

    def _group(self, opening: str, name: str | None) -> None:
        """Open a group; `name` is None for a non-capturing one, "" for an unnamed capture."""
        if name is not None:
            self.names.append(name)
        self.frames.append((self.flags, len(self.out)))
        self.out.append(opening)
        self.atom = None

    def _close(self) -> None:
        if not self.frames:
            raise GoRegexpError("unexpected )", self.src)
        self.pos += 1
        self.flags, start = self.frames.pop()
        self.out.append(")")
        self.atom = start  # a wrap inserts after every open group's start, so this index holds
        self.atom_wrap = False

    # -- repetition

    def _bounds(self) -> tuple[str, int] | None:
        """parseRepeat: `{n}`, `{n,}`, `{n,m}` as Python text and where it ends, or None when
        the brace is a literal (`{`, `{,3}`, `{01}`); an out-of-range count is an error."""
        match = _BOUNDS.match(self.src, self.pos)
        if match is None or _leading_zero(match["min"]) or _leading_zero(match["max"] or ""):
            return None
        low = _go_int(match["min"])
        high = low if match["comma"] is None else -1 if match["max"] is None else _go_int(match["max"])
        if match["max"] is not None and high < 0:
            low = -1
        if low < 0 or low > 1000 or high > 1000 or (high >= 0 and low > high):
            raise GoRegexpError("invalid repeat count", match[0])
        text = f"{{{low}}}" if match["comma"] is None else f"{{{low},}}" if high < 0 else f"{{{low},{high}}}"
        return text, match.end()

    def _repeat(self, text: str, end: int) -> None:
        lazy = end < len(self.src) and self.src[end] == "?"
        if lazy:
            end += 1
        if self.last_repeat is not None:
            raise GoRegexpError("invalid nested repetition operator", self.src[self.last_repeat : end])
        if self.atom is None:
            raise GoRegexpError("missing argument to repetition operator", self.src[self.pos : end])
        if self.atom_wrap:
            self.out.insert(self.atom, "(?:")
            self.out.append(")")
        self.out.append(text + ("?" if lazy != ("U" in self.flags) else ""))
        self.atom_wrap = True  # a quantified item quantified again must be grouped first
        self.pos = end

    # -- escapes and classes

    def _escape(self) -> None:
        rest = self.src[self.pos :]
        if len(rest) >= 2:
            simple = {"A": "\\A", "b": "\\b", "B": "\\B", "z": "\\Z"}
            if rest[1] in simple:
                self.pos += 2
                self._push(simple[rest[1]], wrap=True)
                return
            if rest[1] == "C":
                raise GoRegexpError("invalid escape sequence", rest[:2])
            if rest[1] == "Q":
                literal, _, _ = rest[2:].partition("\\E")
                self.pos += 2 + len(literal) + (2 if rest[2 + len(literal) :].startswith("\\E") else 0)
                for ch in literal:
                    self._literal(ch)
                return
        found = self._class_escape(rest)
        if found is not None:
            ranges, length = found
            self.pos += length
            self._ranges(ranges)
            return
        code, length = _char_escape(rest)
        self.pos += length
        self._literal(chr(code))

    def _class_escape(self, rest: str) -> tuple[_Ranges, int] | None:
        """`\\d`-style and `\\p{...}` classes at the start of `rest`."""
        if len(rest) >= 2 and rest[0] == "\\" and rest[1].lower() in _PERL:
            ranges = _PERL[rest[1].lower()]
            return (_negate(ranges) if rest[1].isupper() else list(ranges)), 2
        if len(rest) >= 2 and rest[0] == "\\" and rest[1] in "pP":
            return _unicode_class(rest)
        return None

    def _class(self) -> None:
        whole = self.src[self.pos :]
        t = 1
        negated = whole.startswith("[^")
        if negated:
            t = 2
        ranges: _Ranges = []
        first = True
        while t >= len(whole) or whole[t] != "]" or first:
            first = False
            if t >= len(whole):
                raise GoRegexpError("missing closing ]", whole)
            rest = whole[t:]
            if rest.startswith("[:"):
                close = rest.find(":]", 2)
                if close >= 0:
                    name = rest[: close + 2]
                    key = name[2:-2]
                    table = _POSIX.get(key.lstrip("^"))
                    if table is None:
                        raise GoRegexpError("invalid character class range", name)
                    ranges += _negate(table) if key.startswith("^") else table
                    t += len(name)
                    continue
            found = self._class_escape(rest)
            if found is not None:
                ranges += found[0]
                t += found[1]
                continue
            lo, size = _class_char(rest, whole)
            hi, end = lo, t + size
            if end + 1 < len(whole) and whole[end] == "-" and whole[end + 1] != "]":
                hi, size2 = _class_char(whole[end + 1 :], whole)
                if hi < lo:
                    raise GoRegexpError("invalid character class range", whole[t : end + 1 + size2])
                end += 1 + size2
            ranges.append((lo, hi))
            t = end
        self.pos += t + 1
        self._ranges(ranges, negated)


_BOUNDS = re.compile(r"\{(?P<min>[0-9]+)(?:(?P<comma>,)(?P<max>[0-9]+)?)?\}")


def _leading_zero(digits: str) -> bool:
    return len(digits) >= 2 and digits[0] == "0"


def _go_int(digits: str) -> int:
    """regexp/syntax `parseInt`'s value: -1 once it reaches 1e8 before the next digit."""
    value = 0
    for ch in digits:
        if value >= 100_000_000:
            return -1
        value = value * 10 + int(ch)
    return value


def _class_char(rest: str, whole: str) -> tuple[int, int]:
    if not rest:
        raise GoRegexpError("missing closing ]", whole)
    if rest[0] == "\\":
        return _char_escape(rest)
    return ord(rest[0]), 1


def _char_escape(rest: str) -> tuple[int, int]:
    """regexp/syntax `parseEscape`: the code point of a one-character escape and its length."""
    if len(rest) < 2:
        raise GoRegexpError("trailing backslash at end of expression", "")
    c = rest[1]
    if c.isascii() and not c.isalnum():
        return ord(c), 2
    if c in "01234567":
        digits = re.compile(r"[0-7]{0,2}").match(rest, 2)
        assert digits is not None
        if c != "0" and not digits[0]:
            raise GoRegexpError("invalid escape sequence", rest[:2])  # a back-reference
        return int(c + digits[0], 8), 2 + len(digits[0])
    if c == "x":
        braced = re.compile(r"\{([0-9a-fA-F]+)\}").match(rest, 2)
        if braced is not None and int(braced[1], 16) <= _MAX_RUNE:
            return int(braced[1], 16), braced.end()
        pair = re.compile(r"[0-9a-fA-F]{2}").match(rest, 2)
        if pair is not None:
            return int(pair[0], 16), 4
        raise GoRegexpError("invalid escape sequence", _bad_hex(rest))
    simple = {"a": 7, "f": 12, "n": 10, "r": 13, "t": 9, "v": 11}
    if c in simple:
        return simple[c], 2
    raise GoRegexpError("invalid escape sequence", rest[:2])


def _bad_hex(rest: str) -> str:
    """How much of a malformed `\\x` escape Go consumed before giving up."""
    if len(rest) == 2:
        return rest
    if rest[2] != "{":
        return rest[:4]
    i, value = 3, 0
    while i < len(rest):
        ch = rest[i]
        i += 1
        if ch == "}" or ch not in "0123456789abcdefABCDEF":
            return rest[:i]
        value = value * 16 + int(ch, 16)
        if value > _MAX_RUNE:
            return rest[:i]
    return rest[:i]


def _unicode_class(rest: str) -> tuple[_Ranges, int]:
    """`\\pL`, `\\p{Lu}`, `\\P{L}`, `\\p{^L}`; general categories and `Any` only."""
    if len(rest) < 3:
        raise GoRegexpError("invalid character class range", rest)
    negated = rest[1] == "P"
    if rest[2] != "{":
        name, length = rest[2], 3
    else:
        end = rest.find("}")
        if end < 0:
            raise GoRegexpError("invalid character class range", rest)
        name, length = rest[3:end], end + 1
    if name.startswith("^"):
        negated, name = not negated, name[1:]
    if name == "Any":
        ranges: _Ranges = [(0, _MAX_RUNE)]
    elif name in _CATEGORIES:
        ranges = list(_category(name))
    elif re.fullmatch(r"[A-Z][A-Za-z_]+", name):
        raise GoRegexpError(
            "invalid character class range (gitops-sim knows Unicode general categories and Any, "
            "not script names; use a character class instead)",
            rest[:length],
        )
    else:
        raise GoRegexpError("invalid character class range", rest[:length])
    return (_negate(ranges) if negated else ranges), length


@functools.lru_cache(maxsize=256)
def compile_go(pattern: str) -> GoRegexp:
    """`regexp.Compile(pattern)`, as a Python pattern with Go's meaning; raises GoRegexpError."""
    text, names = _Translator(pattern).translate()
    return GoRegexp(pattern, re.compile(text, re.ASCII), names)

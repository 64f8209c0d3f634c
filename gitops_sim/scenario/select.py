"""`-k EXPR`: picking scenarios by name, as pytest's `-k` picks tests.

`matches(expr, text)` reads `expr` as words joined by `and`, `or`, `not` and parentheses; a word
holds when it is a substring of `text` (case ignored). `text` is what a scenario is known by: its
name and its file's path. A malformed expression raises `SelectError` with what is wrong.

Callers: the CLI (`run -k`, `list -k`). Pure; evaluates nothing but the expression's own words.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


class SelectError(ValueError):
    pass


def matches(expr: str, text: str) -> bool:
    tokens = [t for t in _TOKEN.findall(expr) if t]
    if not tokens:
        raise SelectError("-k: empty expression")
    lowered = text.lower()
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    def take() -> str:
        nonlocal pos
        token = peek()
        if token is None:
            raise SelectError(f"-k {expr!r}: unexpected end of the expression")
        pos += 1
        return token

    def disjunction() -> bool:
        value = conjunction()
        while peek() == "or":
            take()
            value = conjunction() or value
        return value

    def conjunction() -> bool:
        value = negation()
        while peek() == "and":
            take()
            value = negation() and value
        return value

    def negation() -> bool:
        token = take()
        if token == "not":
            return not negation()
        if token == "(":
            value = disjunction()
            if take() != ")":
                raise SelectError(f"-k {expr!r}: expected ')'")
            return value
        if token in (")", "and", "or"):
            raise SelectError(f"-k {expr!r}: unexpected {token!r}")
        return token.lower() in lowered

    result = disjunction()
    if peek() is not None:
        raise SelectError(f"-k {expr!r}: unexpected {peek()!r}")
    return result

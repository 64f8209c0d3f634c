"""Kubernetes resource quantities (`1Gi`, `500Mi`, `250m`, `1e3`) as exact numbers.

Provenance: behaviour of apimachinery `pkg/api/resource/quantity.go` (`ParseQuantity`: a signed
decimal number, then a binary suffix Ki..Ei, a decimal suffix n, u, m, k, M, G, T, P, E, or an
exponent e/E); our own code. Values are `Fraction`s, so comparisons are exact (the real type keeps
an int64 scaled value, or an inf.Dec beyond it).

Callers: the PersistentVolume controller (a claim's request against a volume's capacity). Pure.
"""

from __future__ import annotations

import re
from fractions import Fraction

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_FORMAT = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
_SHAPE = re.compile(r"^([+-]?(?:\d+\.?\d*|\.\d+))([eE][+-]?\d+|[KMGTPE]i|[numkMGTPE]?)$")


class QuantityError(ValueError):
    """Not a quantity; worded as apimachinery's `ErrFormatWrong`."""


def parse(text: str | int | float) -> Fraction:
    """The exact value of a quantity (an int or float is taken as written)."""
    if isinstance(text, bool):
        raise QuantityError(_FORMAT)
    if isinstance(text, int | float):
        return Fraction(str(text))
    match = _SHAPE.match(text.strip())
    if match is None:
        raise QuantityError(_FORMAT)
    number, suffix = match.groups()
    value = Fraction(number)
    if suffix in _BINARY:
        return value * Fraction(1024) ** _BINARY[suffix]
    if suffix[:1] in ("e", "E"):
        return value * Fraction(10) ** int(suffix[1:])
    return value * Fraction(10) ** _DECIMAL[suffix]

"""Variable substitution in manifests, as Flux's postBuild does it (fluxcd/pkg `envsubst`).

Only `${...}` is expanded; a bare `$var` stays as it is and `$${var}` is the literal `${var}`.
Forms: `${var}`; `${var:-default}` / `${var-default}` (the default when unset, or also when empty
with `:`); `${var:=default}` / `${var=default}` (the same, and the variable keeps it for the rest
of the text); `${var:+alt}` / `${var+alt}` (alt when set). In strict mode (kustomize-controller's
default since v1.9) an unset variable without a default is an error:
`variable not set (strict mode): "var"`. A variable set to the empty string is set.

Callers: the kustomize controller. Pure functions.
"""

from __future__ import annotations

import re

NAME = re.compile(r"^[_a-zA-Z][_a-zA-Z0-9]*$")
_EXPR = re.compile(r"\$\$\{|\$\{([_a-zA-Z][_a-zA-Z0-9]*)(?:(:?[-=+])((?:[^{}]|\{[^{}]*\})*))?\}")


class SubstitutionError(ValueError):
    """A variable the text needs is not set (strict mode), or a name is not a valid name."""


def substitute(text: str, variables: dict[str, str], *, strict: bool = True) -> str:
    values = dict(variables)

    def expand(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, op, word = match.group(1), match.group(2), match.group(3) or ""
        value = values.get(name)
        empty_counts = bool(op and op.startswith(":"))
        unset = value is None or (empty_counts and value == "")
        if op in (":-", "-"):
            return word if unset else str(value)
        if op in (":=", "="):
            if unset:
                values[name] = word
                return word
            return str(value)
        if op in (":+", "+"):
            return "" if unset else word
        if value is None:
            if strict:
                raise SubstitutionError(f'variable not set (strict mode): "{name}"')
            return ""
        return value

    return _EXPR.sub(expand, text)


def check_names(variables: dict[str, str]) -> None:
    for name in variables:
        if not NAME.match(name):
            raise SubstitutionError(
                f"'{name}' var name is invalid, must match '^[_[:alpha:]][_[:alpha:][:digit:]]*$'"
            )

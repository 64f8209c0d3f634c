"""CEL expressions as Flux uses them (healthCheckExprs, dependsOn readyExpr).

Provenance: behaviour of fluxcd/pkg `runtime/cel` (expression.go: parse, evaluate to a bool);
the evaluator is the `common-expression-language` package (a CEL implementation in Rust), not
cel-go. Error texts follow Flux's wrapping (`failed to parse the CEL expression '<e>': …`,
`failed to evaluate the CEL expression '<e>': …`); the part after the colon is the library's
and differs from cel-go's wording, except for a missing map key (cel-go's `no such key: <k>`)
and an unknown top-level variable (`no such attribute(s): <name>`).

`run` evaluates a CRD's validation rule (`x-kubernetes-validations`) for the API server, with
cel-go's wording for the errors the rules of Flux's CRDs can meet.

Callers: `model.kstatus`, the Kustomization controller, `cluster.validation`. Never touches the
cluster or the clock.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

import cel as _cel

_UNDEFINED = re.compile(r"Undefined variable or function: '([^']+)'")


class CelError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Expression:
    source: str
    _program: Any

    @classmethod
    def parse(cls, source: str) -> Expression:
        try:
            return cls(source, _cel.compile(source))
        except ValueError as exc:
            detail = str(exc).removeprefix(f"Failed to parse expression '{source}': ")
            raise CelError(f"failed to parse the CEL expression '{source}': {detail}") from exc

    def evaluate(self, variables: dict[str, Any]) -> bool:
        """The expression's value, which must be a bool."""
        try:
            value = self._program.execute(variables)
        except KeyError as exc:
            raise CelError(
                f"failed to evaluate the CEL expression '{self.source}': no such key: {exc.args[0]}"
            ) from exc
        except (RuntimeError, TypeError, ValueError) as exc:
            undefined = _UNDEFINED.match(str(exc))
            detail = f"no such attribute(s): {undefined.group(1)}" if undefined else str(exc)
            raise CelError(f"failed to evaluate the CEL expression '{self.source}': {detail}") from exc
        if not isinstance(value, bool):
            raise CelError(
                f"failed to evaluate the CEL expression '{self.source}': "
                f"expected a bool, got {type(value).__name__}"
            )
        return value


@functools.cache
def _compiled(source: str) -> Any:
    return _cel.compile(source)


def run(source: str, variables: dict[str, Any]) -> Any:
    """The value of expression `source` over `variables` (programs are compiled once and kept).

    Raises `CelError` with the bare reason (`no such key: <k>`, the library's parse error) for the
    caller to word; the API server appends ` evaluating rule: <rule>`.
    """
    try:
        program = _compiled(source)
    except ValueError as exc:
        raise CelError(f"compilation failed: {exc}") from exc
    try:
        return program.execute(variables)
    except KeyError as exc:
        raise CelError(f"no such key: {exc.args[0]}") from exc
    except (RuntimeError, TypeError, ValueError) as exc:
        undefined = _UNDEFINED.match(str(exc))
        raise CelError(f"no such attribute(s): {undefined.group(1)}" if undefined else str(exc)) from exc

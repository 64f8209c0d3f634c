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

IMPLEMENTATION DETAIL: Problem: the `cel` package's `__init__` imports its command-line front
end (typer, prompt_toolkit, pygments), a third of a second before the first expression compiles,
paid by every `gitops-sim` command that validates an object. Solution: `_library` sets up the
package without running its `__init__`, imports the compiled core (`cel.cel`, what `compile`
and `Context` are) as a submodule and re-exports its names there, as the `__init__` would; the
CLI and `cel.stdlib` load only when something reads or imports them. A layout it does not know
(no `cel.cel`, or no `compile` in it) gets the plain `import cel`.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import re
import sys
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any


def _library() -> ModuleType:
    """The `cel` package with its compiled core and without its CLI (see the module)."""
    if "cel" in sys.modules:
        return sys.modules["cel"]
    spec = importlib.util.find_spec("cel")  # a top-level name: found, not run
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        import cel

        return cel
    package = importlib.util.module_from_spec(spec)
    sys.modules["cel"] = package
    try:
        core = importlib.import_module("cel.cel")
    except ImportError:
        core = None
    if core is None or not hasattr(core, "compile"):
        del sys.modules["cel"]  # a loaded `cel.cel` stays: an extension may be initialised once
        import cel

        return cel
    names = getattr(core, "__all__", None) or [name for name in vars(core) if not name.startswith("_")]
    for name in names:
        setattr(package, name, getattr(core, name))
    vars(package)["__getattr__"] = _submodule  # `cel.stdlib`, `cel.cli`: imported when first read
    return package


def _submodule(name: str) -> ModuleType:
    """A submodule of the `cel` package that its `__init__` would have imported, on first use."""
    if not name.startswith("_"):
        try:
            return importlib.import_module(f"cel.{name}")
        except ModuleNotFoundError:
            pass
    raise AttributeError(f"module 'cel' has no attribute {name!r}")


if TYPE_CHECKING:
    import cel as _cel
else:
    _cel = _library()

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

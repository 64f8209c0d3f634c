"""Scenario steps: one module per step family, each declaring its YAML keys and how they parse.

Design (two registries, one package, so that `scenario.schema` stays free of runtime imports):

- Schema side, `steps/<family>.py` (`apply`, `git`, `artifacts`, `faults`, `metrics`, `drift`, `delete`,
  `reconcile`, `webhook`, `advance`, `expect`): the step's value type (a frozen dataclass deriving from
  `registry.Action`), its parser (built from `steps.fields`, so errors name file:line:col and the
  field path), and `registry.declare(Declaration(key, parse, usage, ...))`. These modules import
  only `model`, `scenario.located` and the name rules of `sources.git`/`workloads.images`, like
  the schema itself; importing this package declares them all, in the order below, which is the
  order of `schema.STEP_KEYS` and of the error messages.
- Runner side, `steps/actions/<family>.py`: `@registry.performs(ValueType)` functions that carry
  the step out through `steps.actions.base.Context` (the runner) and the public methods of the
  simulation's upstreams, storage and workloads. `scenario.runner` imports `steps.actions`.

Why two halves and not one module with lazy imports: import-linter (grimp) counts imports inside
functions and under TYPE_CHECKING, so a lazily imported action would still make the schema import
the engine in the contract's eyes. The registry (`steps.registry`) stores performers as plain
callables and so imports nothing from the runtime.

Adding a step: a declaration (one module here, plus its line below) and a performer (one module
in `steps/actions`, plus its line there). A step defined outside the package (a test, a plugin)
declares and performs from one module of its own, with no edit here: `schema.parse` and the
runner read the registries when they run.

Callers: `scenario.schema`. Nothing here may import a runtime module.
"""

# The order of these imports is the order of the steps.
# isort: off
from gitops_sim.scenario.steps import apply  # noqa: F401  (each module declares its steps)
from gitops_sim.scenario.steps import git  # noqa: F401
from gitops_sim.scenario.steps import artifacts  # noqa: F401
from gitops_sim.scenario.steps import faults  # noqa: F401
from gitops_sim.scenario.steps import metrics  # noqa: F401
from gitops_sim.scenario.steps import drift  # noqa: F401
from gitops_sim.scenario.steps import delete  # noqa: F401
from gitops_sim.scenario.steps import reconcile  # noqa: F401
from gitops_sim.scenario.steps import flux  # noqa: F401
from gitops_sim.scenario.steps import webhook  # noqa: F401
from gitops_sim.scenario.steps import advance  # noqa: F401
from gitops_sim.scenario.steps import expect  # noqa: F401
# isort: on

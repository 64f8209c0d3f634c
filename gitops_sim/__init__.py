"""gitops-sim: Flux, simulated.

The Flux controllers (source, kustomize, ...) re-implemented as one reconciliation engine over
an in-memory Kubernetes API and a virtual clock, driven by YAML scenarios. Start with
`gitops-sim run scenarios/` or `gitops_sim.testing.run_scenario`. The Flux release simulated is
`gitops_sim.model.flux.FLUX_VERSION` (`gitops-sim --version` prints both).

IMPLEMENTATION DETAIL: Problem: the names re-exported here come from `testing`, which imports
the whole engine (every controller, the Helm engine, CEL), and every `gitops_sim.*` import runs
this file first, so `gitops-sim --version` paid for all of it. Solution: the names are looked up
in `testing` on first use (PEP 562 `__getattr__`); type checkers see them as plain imports.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitops_sim.testing import (
        Outcome,
        RecordedEvent,
        Scenario,
        Settings,
        Simulation,
        events_of,
        load_scenario,
        ready,
        run_repo,
        run_scenario,
    )

__all__ = [
    "Outcome",
    "RecordedEvent",
    "Scenario",
    "Settings",
    "Simulation",
    "events_of",
    "load_scenario",
    "ready",
    "run_repo",
    "run_scenario",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from gitops_sim import testing

    return getattr(testing, name)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])

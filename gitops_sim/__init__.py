"""gitops-sim: Flux, simulated.

The Flux controllers (source, kustomize, ...) re-implemented as one reconciliation engine over
an in-memory Kubernetes API and a virtual clock, driven by YAML scenarios. Start with
`gitops-sim run scenarios/` or `gitops_sim.testing.run_scenario`. The Flux release simulated is
`gitops_sim.model.flux.FLUX_VERSION` (`gitops-sim --version` prints both).
"""

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

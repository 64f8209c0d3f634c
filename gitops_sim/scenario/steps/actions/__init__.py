"""What runs each scenario step: one module per step family, each registering its performers with
`steps.registry.performs` (see `scenario.steps` for the design). Importing this package registers
them all. Callers: `scenario.runner`. Performers must never read the real time, nor write into
the internals of the simulation's parts (only their public methods)."""

from gitops_sim.scenario.steps.actions import (  # noqa: F401  (each registers its performers)
    apply,
    artifacts,
    faults,
    flux,
    git,
    metrics,
    objects,
    waits,
    webhook,
)

"""One module per Flux kind. Controllers see only the Cluster protocol, the clock and storage.

Importing this package registers every Flux controller with `reconcile.registry` (each module
registers itself); the engine builds what is registered.
"""

from gitops_sim.controllers import (  # noqa: F401  (imported to register)
    artifactgenerator,
    bucket,
    gitrepository,
    helmchart,
    helmrelease,
    helmrepository,
    imagepolicy,
    imagerepository,
    imageupdateautomation,
    kustomization,
    notification,
    ocirepository,
)

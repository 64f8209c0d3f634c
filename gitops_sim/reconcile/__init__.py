"""The reconcile kernel every simulated controller is built on.

`base`: the contract with the engine (`Reconciler`, `Runtime`, `Watch`, `Result`), Flux's
preamble (`begin`: finalizer, requested-at, suspend), status patching and what happens to an
unexpected exception. `kernel`: a Flux kind declared as its typed spec, its conditions table and
its ordered steps, run as source-controller runs its reconcilers (a declared list of reconcile
functions, then one summary that alone writes Ready, patches status and sends the event).

This package sits below the Flux controllers and the simulated workload controllers, and above
the cluster protocol and the model; it never imports a controller, a workload, a source or a
cluster backend.
"""

"""The flux CLI of Flux 2.10, simulated: `gitops-sim flux …` and the scenario step `flux:`.

Each command is a function of a `session.Session` (a cluster, a way to let time pass, two output
streams) and its parsed flags; `command.run` parses a command line as the real CLI does and
returns its exit code. Against a served simulation the cluster is our API server over HTTP and
time is the wall clock's; inside a scenario it is the simulation's cluster and virtual time.

Never imports the engine or the scenario language: a command sees only the `Cluster` protocol.
"""

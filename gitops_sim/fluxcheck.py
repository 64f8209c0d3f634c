"""`gitops-sim flux check --pre`: the flux CLI's prerequisite check, against any cluster.

What it does: reads the API server's version and checks it against Flux 2.10's Kubernetes
constraint (`>=1.33.0-0`, Masterminds semver as the CLI reads it), printing the CLI's lines with
its logger's symbols:

    ► checking prerequisites
    ✔ Kubernetes 1.37.0 >=1.33.0-0
    ✔ prerequisites checks passed

or `✗ Kubernetes version <v> does not match >=1.33.0-0` (exit 1).

Provenance: flux2 cmd/flux/check.go (`runCheckCmd`, `kubernetesCheck`, the constraint) and
cmd/flux/log.go (the symbols); our own code.

Differences, on purpose: the real CLI also asks GitHub for the latest release (a network call) and
prints `✗ flux <v> <<latest> (new CLI version is available, please upgrade)`; gitops-sim never
leaves the machine and leaves that line out.

Callers: the CLI. Reads the cluster only through the version it is given.
"""

from __future__ import annotations

from gitops_sim.model import semver

KUBERNETES_CONSTRAINT = ">=1.33.0-0"
"""The Kubernetes versions Flux 2.10's CLI accepts (cmd/flux/check.go)."""


def pre(git_version: str) -> tuple[list[str], int]:
    """The lines `flux check --pre` prints for a server at `git_version` (`v1.37.0`), and its exit code."""
    lines = ["► checking prerequisites"]
    core, plus, build = git_version.removeprefix("v").partition("+")
    version = semver.try_parse_version(core)
    if version is None:
        return [*lines, f"✗ could not parse the Kubernetes version {git_version!r}"], 1
    shown = core + plus + build  # as Masterminds prints it: pre-release and build metadata kept
    if not semver.Constraint(KUBERNETES_CONSTRAINT).check(version):
        return [*lines, f"✗ Kubernetes version {shown} does not match {KUBERNETES_CONSTRAINT}"], 1
    return [*lines, f"✔ Kubernetes {shown} {KUBERNETES_CONSTRAINT}", "✔ prerequisites checks passed"], 0

"""`flux bootstrap github` against the simulated GitHub: the repository created (or found), the
deploy key registered, Flux's files pushed, the token read from GITHUB_TOKEN only."""

from __future__ import annotations

from pathlib import Path

from gitops_sim.engine import simulation
from gitops_sim.model import refs
from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.steps.actions import flux

TOKEN = {"GITHUB_TOKEN": "ghp_simulated"}
ARGS = [
    "bootstrap",
    "github",
    "--owner=acme",
    "--repository=fleet",
    "--personal",
    "--path=clusters/my-cluster",
]


def test_bootstrap_github_creates_the_repository_and_registers_a_read_only_deploy_key(
    bare: simulation.Simulation,
) -> None:
    code, _, err = flux.run(bare, ARGS, None, TOKEN)
    assert code == 0, err
    lines = err.splitlines()
    assert lines[:4] == [
        "► connecting to github.com",
        '✔ repository "https://github.com/acme/fleet" created',
        '► cloning branch "main" from Git repository "https://github.com/acme/fleet.git"',
        "✔ cloned repository",
    ]
    key = "flux-system-main-flux-system-./clusters/my-cluster"
    assert f'✔ configured deploy key "{key}" for "https://github.com/acme/fleet"' in lines
    assert bare.forge.keys("acme", "fleet") == [(key, True)]
    sync = bare.cluster.get(
        refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "flux-system")
    )
    assert sync["spec"]["url"] == "ssh://git@github.com/acme/fleet"
    assert lines[-1] == "✔ all components are healthy"


def test_a_second_run_finds_the_repository_and_keeps_the_key(bare: simulation.Simulation) -> None:
    flux.run(bare, ARGS, None, TOKEN)
    code, _, err = flux.run(bare, ARGS, None, TOKEN)
    assert code == 0, err
    assert "created" not in err.splitlines()[1]
    assert "✔ source secret up to date" in err.splitlines()
    assert len(bare.forge.keys("acme", "fleet")) == 1


def test_token_auth_puts_the_token_in_the_source_secret_and_an_https_url(bare: simulation.Simulation) -> None:
    code, _, err = flux.run(bare, [*ARGS, "--token-auth"], None, TOKEN)
    assert code == 0, err
    secret = bare.cluster.get(refs.ObjectRef("", "Secret", "flux-system", "flux-system"))
    assert sorted(secret["data"]) == ["password", "username"]
    assert bare.forge.keys("acme", "fleet") == []
    sync = bare.cluster.get(
        refs.ObjectRef("source.toolkit.fluxcd.io", "GitRepository", "flux-system", "flux-system")
    )
    assert sync["spec"]["url"] == "https://github.com/acme/fleet.git"


def test_without_a_token_bootstrap_github_fails_as_the_cli_does(bare: simulation.Simulation) -> None:
    assert flux.run(bare, ARGS) == (1, "", "✗ could not read token: could not read from stdin: EOF\n")


def test_the_token_never_reaches_the_timeline(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: github\ncluster: {flux: absent}\nsteps:\n"
        "  - flux:\n"
        "      run: bootstrap github --owner=acme --repository=fleet --personal\n"
        "      env: {GITHUB_TOKEN: ghp_s3cret}\n"
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure
    assert "ghp_s3cret" not in outcome.trace.to_json()

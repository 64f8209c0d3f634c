"""The `sops:` key of a `commit` step: files committed SOPS-encrypted for age recipients."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from gitops_sim.model import age
from gitops_sim.scenario import loader, runner
from gitops_sim.scenario.located import LoadError
from gitops_sim.scenario.steps import git as git_steps
from tests.scenario.conftest import WriteScenario

KEY = age.generate(random.Random("commit sops key"))
SECRET = """apiVersion: v1
kind: Secret
metadata: {name: db, namespace: default}
stringData: {password: hunter2}
"""


def steps(sops: str, expect: str = "") -> str:
    return (
        "- commit:\n"
        "    repo: fleet\n"
        "    files:\n"
        "      apps/db.yaml: |\n"
        + "".join(f"        {line}\n" for line in SECRET.splitlines())
        + f"    sops: {sops}\n"
        + expect
    )


def test_the_files_are_committed_encrypted_and_the_same_seed_makes_the_same_commit(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario(
        steps(f"{{age: {KEY.recipient}, files: [apps/db.yaml], encrypted-regex: ^stringData$}}")
    )
    scenario = loader.load(path)
    commit = scenario.steps[0].action
    assert isinstance(commit, git_steps.Commit) and commit.sops is not None
    assert commit.sops.rules.encrypted_regex == "^stringData$"
    shas = []
    for run in ("one", "two"):
        outcome = runner.run(scenario, tmp_path / run)
        assert outcome.passed, outcome.failure
        shas.append([r["sha"] for r in outcome.trace.records if r["kind"] == "commit"])
    assert shas[0] == shas[1] and len(shas[0]) == 2


def test_an_encrypted_secret_is_applied_decrypted_by_a_kustomization_with_the_key(
    write_scenario: WriteScenario, tmp_path: Path
) -> None:
    path = write_scenario(
        f"- apply: {{apiVersion: v1, kind: Secret, metadata: {{name: sops-age, namespace: flux-system}}, "
        f"stringData: {{age.agekey: {KEY}}}}}\n"
        "- apply: {apiVersion: kustomize.toolkit.fluxcd.io/v1, kind: Kustomization, "
        "metadata: {name: apps, namespace: flux-system}, spec: {interval: 10m, path: ./apps, prune: true, "
        "sourceRef: {kind: GitRepository, name: fleet}, "
        "decryption: {provider: sops, secretRef: {name: sops-age}}}}\n"
        + steps(
            f"{{age: [{KEY.recipient}], files: [apps/db.yaml], encrypted-regex: ^stringData$}}",
            "- expect: {object: Secret/default/db, fields: {data.password: aHVudGVyMg==}, within: 2m}\n",
        )
    )
    outcome = runner.run(loader.load(path), tmp_path / "work")
    assert outcome.passed, outcome.failure


@pytest.mark.parametrize(
    ("sops", "message"),
    [
        pytest.param(
            "{age: age1nope, files: [apps/db.yaml]}",
            ":31:19: steps[0].commit.sops.age: expected an age recipient (age1…): failed to parse input "
            "as Bech32-encoded age public key: malformed recipient 'age1nope': separator '1' at invalid "
            "position: pos=3, len=8",
            id="bad-recipient",
        ),
        pytest.param(
            f"{{age: {KEY.recipient}, files: [apps/other.yaml]}}",
            ":31:91: steps[0].commit.sops.files[0]: 'apps/other.yaml' is not a file this commit writes "
            "(in `files` or `dir`)",
            id="file-not-in-the-commit",
        ),
        pytest.param(
            f"{{age: {KEY.recipient}, files: [apps/db.yaml], encrypted-regex: a, unencrypted-suffix: b}}",
            ":31:13: steps[0].commit.sops: at most one of encrypted-regex, encrypted-suffix, "
            "unencrypted-regex, unencrypted-suffix (sops allows one rule a file)",
            id="two-rules",
        ),
        pytest.param(
            "{files: [apps/db.yaml]}",
            ":31:13: steps[0].commit.sops: missing required field 'age'",
            id="no-recipient",
        ),
    ],
)
def test_a_bad_sops_key_is_refused_at_its_line(
    write_scenario: WriteScenario, sops: str, message: str
) -> None:
    path = write_scenario(steps(sops))
    with pytest.raises(LoadError) as caught:
        loader.load(path)
    assert str(caught.value).endswith(message)

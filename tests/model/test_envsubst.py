"""postBuild substitution rules (fluxcd/pkg envsubst), as a table."""

from __future__ import annotations

import pytest

from gitops_sim.model import envsubst

VARS = {"cluster": "prod", "empty": "", "region": "eu-1"}


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("name: ${cluster}", "name: prod"),
        ("name: $cluster", "name: $cluster"),  # only ${...}
        ("name: $${cluster}", "name: ${cluster}"),  # escaped
        ("r: ${missing:-eu-2}", "r: eu-2"),
        ("r: ${empty:-x}", "r: x"),  # `:` counts an empty value as unset
        ("r: ${empty-x}", "r: "),
        ("r: ${missing:=x}/${missing}", "r: x/x"),  # := assigns
        ("r: ${cluster:+on}${missing:+on}", "r: on"),
        ("r: ${region}-${cluster}", "r: eu-1-prod"),
    ],
)
def test_expansion(text: str, out: str) -> None:
    assert envsubst.substitute(text, VARS) == out


def test_an_unset_variable_without_default_fails_in_strict_mode() -> None:
    with pytest.raises(envsubst.SubstitutionError, match=r'^variable not set \(strict mode\): "missing"$'):
        envsubst.substitute("a: ${missing}", VARS)
    assert envsubst.substitute("a: ${missing}", VARS, strict=False) == "a: "


def test_variable_names_must_be_identifiers() -> None:
    with pytest.raises(envsubst.SubstitutionError, match=r"^'bad-name' var name is invalid"):
        envsubst.check_names({"bad-name": "x"})

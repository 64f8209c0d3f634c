from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PASSING = """\
name: the default namespace exists
steps:
  - expect: {object: Namespace/default, fields: {status.phase: Active}}
"""
FAILING = """\
name: the default namespace is gone
steps:
  - expect: {absent: Namespace/default}
"""


def test_scenario_files_under_scenarios_become_test_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"scenarios/ok": PASSING, "scenarios/nope": FAILING})
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*scenarios/nope.yaml::nope FAILED*", "*scenarios/ok.yaml::ok PASSED*"])
    result.stdout.fnmatch_lines(
        [
            "*nope.yaml:3:13: expectation failed: Namespace/default still exists*",
            "Timeline of 'the default namespace is gone':*",
        ]
    )


def test_k_selects_scenarios_by_file_name(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"scenarios/ok": PASSING, "scenarios/nope": FAILING})
    result = pytester.runpytest("-k", "ok")
    result.assert_outcomes(passed=1, deselected=1)


def test_yaml_outside_scenarios_folders_is_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"config/ok": PASSING})
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_the_sim_fixture_gives_a_cluster_with_flux_installed(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
        from gitops_sim.model import refs

        def test_flux_is_there(sim):
            crd = refs.ObjectRef("apiextensions.k8s.io", "CustomResourceDefinition", "",
                                 "kustomizations.kustomize.toolkit.fluxcd.io")
            assert sim.cluster.get(crd)["spec"]["names"]["kind"] == "Kustomization"
            assert sim.now() == 0
    """)
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)

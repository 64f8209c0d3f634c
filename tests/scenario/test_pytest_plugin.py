from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

PASSING = """\
apiVersion: gitops-sim/v1alpha1
kind: Scenario
name: the default namespace exists
steps:
  - expect: {object: Namespace/default, fields: {status.phase: Active}}
"""
FAILING = """\
apiVersion: gitops-sim/v1alpha1
kind: Scenario
name: the default namespace is gone
steps:
  - expect: {absent: Namespace/default}
"""


def test_scenario_files_under_scenarios_become_test_items(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"scenarios/ok": PASSING, "scenarios/nope": FAILING})
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*scenarios/nope.yaml::the default namespace is gone FAILED*",
            "*scenarios/ok.yaml::the default namespace exists PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*nope.yaml:5:13: expectation failed: Namespace/default still exists*",
            "Timeline of 'the default namespace is gone':*",
        ]
    )


def test_k_selects_scenarios_by_name_or_file_name(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"scenarios/ok": PASSING, "scenarios/nope": FAILING})
    pytester.runpytest("-k", "exists").assert_outcomes(passed=1, deselected=1)
    pytester.runpytest("-k", "ok").assert_outcomes(passed=1, deselected=1)


def test_the_junit_report_names_each_testcase_after_its_scenario(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"scenarios/ok": PASSING})
    pytester.runpytest("--junitxml=report.xml")
    assert 'name="the default namespace exists"' in (pytester.path / "report.xml").read_text()


def test_yaml_outside_scenarios_folders_is_not_collected(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **{"config/ok": PASSING})
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.NO_TESTS_COLLECTED


def test_a_scenario_file_named_on_the_command_line_is_collected_wherever_it_is(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", **{"config/ok": PASSING})
    result = pytester.runpytest("config/ok.yaml")
    result.assert_outcomes(passed=1)


def test_the_ini_lists_the_folders_scenarios_are_collected_from(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\ngitops_sim_paths =\n    checks\n")
    pytester.makefile(".yaml", **{"checks/ok": PASSING, "scenarios/nope": FAILING})
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_manifests_and_undeclared_yaml_in_a_scenarios_folder_are_not_collected(
    pytester: pytest.Pytester,
) -> None:
    manifests = (
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n"
    )
    pytester.makefile(
        ".yaml",
        **{
            "scenarios/ok": PASSING,
            "scenarios/fleet/namespaces": manifests,
            "scenarios/old": "name: x\nsteps: []\n",
        },
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


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

"""The reports of `gitops-sim run`: JUnit XML, the HTML report (seen in headless Chromium), and
the progress line on a terminal."""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from rich.console import Console

from gitops_sim import cli
from gitops_sim.scenario import html, loader, progress, runner
from tests import browser

SHIPPED = Path(__file__).parents[2] / "scenarios" / "kustomize" / "why-not-ready.yaml"
_FAILING = """steps:
  - fault: {image: "docker.io/library/redis:7.9", type: unpullable}
  - advance: 3m
  - expect: {condition: {object: Kustomization/flux-system/apps, type: Ready, status: "True"}}
  - advance: 1m
"""


def _failing(tmp_path: Path) -> Path:
    path = tmp_path / "failing.yaml"
    path.write_text(
        SHIPPED.read_text().split("steps:\n")[0].replace("name: an app", "name: a failing app") + _FAILING
    )
    return path


def _junit(tmp_path: Path, *extra: str) -> ET.Element:
    out = tmp_path / "junit.xml"
    cli.main(["run", "-q", "--junit", str(out), *extra, str(SHIPPED), str(_failing(tmp_path))])
    return ET.parse(out).getroot()


def test_junit_has_a_testcase_per_scenario_named_by_its_name_with_file_and_line(tmp_path: Path) -> None:
    suite = _junit(tmp_path).find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    passed, failed = suite.findall("testcase")
    assert passed.get("name") == "an app waits on infrastructure whose image cannot be pulled"
    assert passed.get("file") == str(SHIPPED) and passed.get("line") == "4"
    assert passed.find("failure") is None
    failure = failed.find("failure")
    assert failure is not None and failure.text is not None
    assert failure.get("message", "").startswith(
        "expectation failed: Kustomization/flux-system/apps condition Ready"
    )
    assert f"{tmp_path / 'failing.yaml'}:" in failure.text and "ImagePullBackOff" in failure.text


def test_junit_keeps_the_timeline_in_system_out(tmp_path: Path) -> None:
    case = _junit(tmp_path).find("testsuite/testcase")
    assert case is not None
    out = case.findtext("system-out") or ""
    assert "kustomize-controller Kustomization/flux-system/infra Warning HealthCheckFailed" in " ".join(
        out.split()
    )
    assert out.rstrip().endswith("virtual time 00:12:00.750")


def test_junit_steps_adds_a_testcase_per_step_failed_at_the_failing_one_and_skipped_after(
    tmp_path: Path,
) -> None:
    cases = _junit(tmp_path, "--junit-steps").findall(
        "testsuite/testcase[@classname='a failing app waits on infrastructure whose image cannot be pulled']"
    )
    assert [c.get("name") for c in cases] == [
        "steps[0] fault",
        "steps[1] advance",
        "steps[2] expect",
        "steps[3] advance",
    ]
    assert [(c.find("failure") is not None, c.find("skipped") is not None) for c in cases] == [
        (False, False),
        (False, False),
        (True, False),
        (False, True),
    ]
    assert cases[2].get("line") == str(int(cases[0].get("line", "0")) + 2)


def test_junit_reports_a_file_that_cannot_be_loaded_as_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: gitops-sim/v1alpha1\nkind: Scenario\nname: bad\nsteps: [{advanse: 1m}]\n")
    out = tmp_path / "junit.xml"
    assert cli.main(["run", "-q", "--junit", str(out), str(bad)]) == 2
    case = ET.parse(out).getroot().find("testsuite/testcase")
    assert case is not None and case.get("name") == str(bad)
    error = case.find("error")
    assert error is not None and "advanse" in (error.text or "")


def _report(tmp_path: Path) -> Path:
    out = tmp_path / "report.html"
    cli.main(["run", "-q", "--report", str(out), str(SHIPPED), str(_failing(tmp_path))])
    return out


def _data(page: str) -> list[dict[str, object]]:
    found = re.search(r'<script type="application/json" id="data">(.*?)</script>', page, re.S)
    assert found is not None
    return list(json.loads(found.group(1)))


def test_the_html_report_is_one_file_that_loads_nothing_from_elsewhere(tmp_path: Path) -> None:
    page = _report(tmp_path).read_text()
    assert not re.search(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=", page)
    assert "@import" not in page and "url(" not in page
    assert [run["name"] for run in _data(page)] == [
        "an app waits on infrastructure whose image cannot be pulled",
        "a failing app waits on infrastructure whose image cannot be pulled",
    ]


def test_the_html_report_holds_each_flux_objects_conditions_as_bands(tmp_path: Path) -> None:
    run = _data(_report(tmp_path).read_text())[0]
    bands = {(b["object"], b["type"]): b["segments"] for b in run["bands"]}  # type: ignore[attr-defined]
    infra = bands[("Kustomization/flux-system/infra", "Ready")]
    assert [(s["status"], s["reason"], s["colour"]) for s in infra] == [
        ("Unknown", "Progressing", "unknown"),
        ("False", "HealthCheckFailed", "bad"),
        ("Unknown", "Progressing", "unknown"),  # the next try, once the image pulls
        ("True", "ReconciliationSucceeded", "good"),
    ]
    assert infra[0]["to"] == infra[1]["from"] and infra[-1]["to"] == run["end"]


def test_text_from_a_scenario_cannot_close_the_reports_script(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(
        SHIPPED.read_text().replace(
            "name: an app waits", "name: </script><script>alert(1)</script> an app waits"
        )
    )
    page = _report_of(path, tmp_path)
    assert "</script><script>alert(1)" not in page
    assert (
        _data(page)[0]["name"]
        == "</script><script>alert(1)</script> an app waits on infrastructure whose image cannot be pulled"
    )


def _report_of(path: Path, tmp_path: Path) -> str:
    outcome = runner.run(loader.load(path), tmp_path / "work", keep_history=True)
    return html.render([outcome])


def test_a_secrets_values_never_reach_the_report(tmp_path: Path) -> None:
    text = SHIPPED.read_text().replace(
        "steps:\n",
        "  - |\n    apiVersion: v1\n    kind: Secret\n    metadata: {name: token, namespace: flux-system}\n"
        "    stringData: {token: hunter2-very-secret}\nsteps:\n",
        1,
    )
    path = tmp_path / "secret.yaml"
    path.write_text(text)
    page = _report_of(path, tmp_path)
    assert "Secret/flux-system/token" in page
    assert "hunter2-very-secret" not in page and "aHVudGVyMi12ZXJ5LXNlY3JldA" not in page


@pytest.mark.skipif(browser.CHROMIUM is None, reason="needs Debian's chromium (installed by .ci/run)")
def test_a_person_sees_swimlanes_the_failed_expectation_and_a_diff_on_click(tmp_path: Path) -> None:
    report = _report(tmp_path)
    with browser.chromium(tmp_path / "chromium") as page:
        page.open(report)
        page.screenshot(tmp_path / "report.png")  # kept with the test's tmp folder, for people
        first, second = "#scenario-0", "#scenario-1"
        lanes = page.evaluate(f"[...document.querySelectorAll('{first} .lane')].map(g => g.dataset.lane)")
        assert {"source-controller", "kustomize-controller", "kubelet", "scenario", "git"} <= set(lanes)
        assert page.evaluate(f"document.querySelectorAll('{first} .marker.failed').length") == 0
        assert page.evaluate(f"document.querySelectorAll('{second} .marker.failed').length") >= 1
        assert page.evaluate(f"document.querySelector('{second} pre.failure').textContent").startswith(
            f"{tmp_path / 'failing.yaml'}:"
        )
        assert page.evaluate(f"document.querySelectorAll('{first} .band-row').length") >= 3
        # a HealthCheckFailed event: the Kustomization's status changed at that instant
        marker = (
            f"[...document.querySelectorAll('{first} .marker')].find(m => "
            "m.querySelector('title').textContent.includes('HealthCheckFailed'))"
        )
        page.evaluate(f"{marker}.dispatchEvent(new MouseEvent('click', {{bubbles: true}}))")
        detail = page.evaluate(f"document.querySelector('{first} .detail').innerText")
        assert "Kustomization/flux-system/infra at " in detail and "before → after" in detail
        added = page.evaluate(
            f"[...document.querySelectorAll('{first} .detail .diff .add')].map(s => s.textContent)"
        )
        assert any("reason: HealthCheckFailed" in line for line in added)
        page.screenshot(tmp_path / "report-clicked.png")
        # unticking a controller hides its markers
        page.evaluate(
            f"document.querySelector('{first} .lane-filter[data-lane=\"kustomize-controller\"]').click()"
        )
        hidden = page.evaluate(
            f"[...document.querySelectorAll('{first} .lane[data-lane=\"kustomize-controller\"] .marker')]"
            ".every(m => m.classList.contains('hidden'))"
        )
        assert hidden is True
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_the_progress_line_is_drawn_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with progress.Progress(console, "drift is corrected") as shown:
        shown.update(90_000)
        console.print("done")  # printing above the line redraws it after
    assert "drift is corrected" in out.getvalue() and "00:01:30.000" in out.getvalue()


def test_no_progress_line_when_the_output_is_not_a_terminal() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=100)
    with progress.Progress(console, "drift is corrected") as shown:
        shown.update(90_000)
    assert out.getvalue() == ""

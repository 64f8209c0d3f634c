"""The timeline as `gitops-sim run` prints it."""

from __future__ import annotations

from gitops_sim.scenario import report


def test_a_message_ending_in_a_newline_adds_no_blank_line() -> None:
    record = {
        "t": 0,
        "kind": "event",
        "controller": "image-automation-controller",
        "object": "ImageUpdateAutomation/flux-system/fleet",
        "type": "Normal",
        "reason": "Succeeded",
        "message": "pushed commit 'abc1234' to branch 'main'\napp:1.0.0 -> app:1.1.0\n",
    }
    lines = report.timeline_lines([record])
    assert len(lines) == 2
    assert lines[0].endswith("pushed commit 'abc1234' to branch 'main'")
    assert lines[1].strip() == "app:1.0.0 -> app:1.1.0"

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
    assert lines[1].endswith(" app:1.0.0 -> app:1.1.0")


def test_a_long_object_name_wraps_in_its_column_and_the_message_column_stays() -> None:
    record = {
        "t": 0,
        "kind": "event",
        "controller": "replicaset-controller",
        "object": "ReplicaSet/flux-system/image-reflector-controller-5bd75674f4",
        "type": "Normal",
        "reason": "SuccessfulCreate",
        "message": "Created pod: x\nsecond line",
    }
    lines = report.timeline_lines([record])
    start = lines[0].index("Created pod: x")
    assert [line[start:] for line in lines] == ["Created pod: x", "second line", ""][: len(lines)]
    assert "".join(line[37:72].strip() for line in lines) == record["object"]
    assert lines[0][37:72].rstrip() == "ReplicaSet/flux-system/"  # cut after a slash

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
    assert "".join(line[42:77].strip() for line in lines) == record["object"]
    assert lines[0][42:77].rstrip() == "ReplicaSet/flux-system/"  # cut after a slash


def test_the_longest_controller_name_keeps_the_columns_aligned() -> None:
    rec = {
        "t": 0,
        "kind": "event",
        "controller": "image-automation-controller",
        "object": "ImageUpdateAutomation/flux-system/apps",
        "type": "Normal",
        "reason": "Succeeded",
        "message": "pushed commit",
    }
    short = {**rec, "controller": "kustomize-controller", "object": "Kustomization/flux-system/apps"}
    long_line, short_line = report.timeline_lines([rec])[0], report.timeline_lines([short])[0]
    assert long_line.index("Normal Succeeded") == short_line.index("Normal Succeeded")

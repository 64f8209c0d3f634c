"""The kustomize build: the overlay written into a user's kustomization.yaml keeps every value's type."""

from __future__ import annotations

from pathlib import Path

from gitops_sim.apply import build

CM = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {mode: a}\n"


def test_a_base_60_looking_value_survives_a_target_namespace_rewrite_as_a_string(tmp_path: Path) -> None:
    files = {
        "apps/kustomization.yaml": (
            b"resources: [cm.yaml]\ncommonAnnotations:\n  window: 1:20\n  match: =\n  at: 2024-01-01\n"
        ),
        "apps/cm.yaml": CM,
    }
    objs = build.Builder(tmp_path).build(
        files, "./apps", label="apps", overlay=build.Overlay(namespace="team-a")
    )
    assert [(o["metadata"]["namespace"], o["metadata"]["annotations"]) for o in objs] == [
        ("team-a", {"window": "1:20", "match": "=", "at": "2024-01-01"})
    ]


def test_the_overlay_keeps_the_users_values_and_merges_its_images(tmp_path: Path) -> None:
    files = {
        "kustomization.yaml": b"resources: [cm.yaml]\nimages:\n- {name: app, newTag: '1.0'}\n",
        "cm.yaml": CM,
    }
    builder = build.Builder(tmp_path)
    overlay = build.Overlay(name_prefix="x-", images=({"name": "other", "newTag": "0o17"},))
    kus = tmp_path / "k"
    kus.mkdir()
    (kus / "kustomization.yaml").write_bytes(files["kustomization.yaml"])
    overlay.write_into(kus)
    assert (kus / "kustomization.yaml").read_text() == (
        "resources:\n- cm.yaml\nimages:\n- name: app\n  newTag: '1.0'\n- name: other\n  newTag: '0o17'\n"
        "namePrefix: x-\n"
    )
    built = builder.build(files, ".", label="x", overlay=overlay)
    assert [o["metadata"]["name"] for o in built] == ["x-settings"]

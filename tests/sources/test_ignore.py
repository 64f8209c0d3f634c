"""What stays out of an artifact: source-controller's defaults, .sourceignore files and spec.ignore."""

from __future__ import annotations

import pytest

from gitops_sim.sources import ignore

TREE = {
    "apps/a.yaml": b"",
    "apps/logo.png": b"",
    "apps/secret/key.yaml": b"",
    ".github/workflows/ci.yaml": b"",
    "docs/readme.md": b"",
    "charts/x.tar.gz": b"",
}


def kept(files: dict[str, bytes], spec_ignore: str | None = None) -> list[str]:
    return sorted(ignore.select(files, spec_ignore))


def test_the_defaults_drop_images_archives_and_ci_configuration() -> None:
    assert kept(TREE) == ["apps/a.yaml", "apps/secret/key.yaml", "docs/readme.md"]


def test_spec_ignore_replaces_all_defaults_but_the_vcs_ones() -> None:
    assert kept({**TREE, ".gitignore": b""}, "docs/\n") == [
        ".github/workflows/ci.yaml",
        "apps/a.yaml",
        "apps/logo.png",
        "apps/secret/key.yaml",
        "charts/x.tar.gz",
    ]


def test_a_sourceignore_file_is_scoped_to_its_directory() -> None:
    files = {**TREE, "apps/.sourceignore": b"/secret/\n*.png\n"}
    assert kept(files) == [
        ".github/workflows/ci.yaml",
        "apps/.sourceignore",
        "apps/a.yaml",
        "charts/x.tar.gz",
        "docs/readme.md",
    ]


def test_spec_ignore_has_the_last_word_over_sourceignore_files() -> None:
    files = {**TREE, ".sourceignore": b"docs/\n"}
    assert "docs/readme.md" in kept(files, "!docs/\n")


@pytest.mark.parametrize(
    ("patterns", "path", "out"),
    [
        ("/*\n!/apps/\n", "apps/a.yaml", False),
        ("/*\n!/apps/\n", "docs/readme.md", True),
        ("*.yaml\n!apps/a.yaml\n", "apps/a.yaml", False),
        ("*.yaml\n!apps/a.yaml\n", "apps/secret/key.yaml", True),
        ("apps/\n!apps/a.yaml\n", "apps/a.yaml", True),  # an excluded directory is never entered
        ("**/key.yaml\n", "apps/secret/key.yaml", True),
        ("secret\n", "apps/secret/key.yaml", True),
        ("/secret\n", "apps/secret/key.yaml", False),
        ("# a comment\n\n", "apps/a.yaml", False),
    ],
)
def test_gitignore_semantics(patterns: str, path: str, out: bool) -> None:
    assert ignore.excluded(path, ignore.parse(patterns)) is out

"""Go's `path.Match`/`io/fs.Glob` and doublestar's globs, as source-watcher's copy operations use them."""

from __future__ import annotations

import pytest

from gitops_sim.model import artifactbuild, globs

TREE = artifactbuild.Tree.of(
    {
        "deploy/app.yaml": b"",
        "deploy/base/cm.yaml": b"",
        "deploy/base/deep/x.yaml": b"",
        "README.md": b"",
    }
)


def test_a_star_never_crosses_a_slash() -> None:
    assert globs.match("deploy/*.yaml", "deploy/app.yaml")
    assert not globs.match("deploy/*.yaml", "deploy/base/cm.yaml")


def test_fs_glob_matches_one_level_per_segment_files_and_directories_alike() -> None:
    assert globs.glob(TREE, "deploy/*") == ["deploy/app.yaml", "deploy/base"]
    assert globs.glob(TREE, "deploy/**") == ["deploy/app.yaml", "deploy/base"]  # `**` is `*` to Go


def test_a_malformed_pattern_is_go_s_bad_pattern_error() -> None:
    with pytest.raises(globs.PatternError, match="syntax error in pattern"):
        globs.glob(TREE, "deploy/[a-")


@pytest.mark.parametrize(
    ("pattern", "path", "matched"),
    [
        pytest.param("**/testdata/**", "a/testdata/b/c.yaml", True, id="globstar-both-ends"),
        pytest.param("**/*.md", "README.md", True, id="globstar-zero-directories"),
        pytest.param("subdir/**", "subdir", True, id="trailing-globstar-matches-the-directory"),
        pytest.param("*.{yaml,yml}", "a.yml", True, id="alternatives"),
        pytest.param("[!a]*", "apps", False, id="negated-class"),
        pytest.param("*.md", "docs/x.md", False, id="star-stays-in-its-segment"),
    ],
)
def test_doublestar_matches_as_doublestar_does(pattern: str, path: str, matched: bool) -> None:
    assert globs.doublestar_match(pattern, path) is matched


def test_doublestar_glob_walks_the_whole_tree() -> None:
    assert globs.doublestar_glob(TREE, "**/*.yaml") == [
        "deploy/app.yaml",
        "deploy/base/cm.yaml",
        "deploy/base/deep/x.yaml",
    ]

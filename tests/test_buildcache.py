"""The build cache's folder: where it is, entries private and whole, damage a miss, size bounded."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from gitops_sim import buildcache

NAME = buildcache.key("a build")


@pytest.fixture
def cache(tmp_path: Path) -> buildcache.Cache:
    return buildcache.Cache(tmp_path / "cache")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({}, "/home/u/.cache/gitops-sim", id="home"),
        pytest.param({"XDG_CACHE_HOME": "/xdg"}, "/xdg/gitops-sim", id="xdg"),
        pytest.param({"XDG_CACHE_HOME": "relative"}, "/home/u/.cache/gitops-sim", id="relative-xdg-ignored"),
        pytest.param({"GITOPS_SIM_CACHE": "/c", "XDG_CACHE_HOME": "/xdg"}, "/c", id="gitops-sim-cache-wins"),
    ],
)
def test_the_folder_is_the_users_cache_folder_unless_gitops_sim_cache_names_one(
    environ: dict[str, str], expected: str
) -> None:
    assert buildcache.default_dir(environ, Path("/home/u")) == Path(expected)


def test_an_entry_reads_back_as_written(cache: buildcache.Cache) -> None:
    cache.put("kustomize", NAME, b"output\nkind: ConfigMap\n")
    assert cache.get("kustomize", NAME) == b"output\nkind: ConfigMap\n"
    assert cache.get("helm", NAME) is None


def test_entries_are_readable_by_their_owner_only(cache: buildcache.Cache) -> None:
    cache.put("kustomize", NAME, b"data")
    entry = cache.root / "kustomize" / NAME[:2] / NAME
    assert oct(entry.stat().st_mode & 0o777) == oct(0o600)
    for folder in (cache.root, entry.parent, entry.parent.parent):
        assert oct(folder.stat().st_mode & 0o777) == oct(0o700)


def test_a_damaged_entry_is_a_miss_and_goes(cache: buildcache.Cache) -> None:
    cache.put("kustomize", NAME, b"output\nkind: ConfigMap\n")
    entry = cache.root / "kustomize" / NAME[:2] / NAME
    entry.write_bytes(entry.read_bytes().replace(b"ConfigMap", b"ConfigMaq"))
    assert cache.get("kustomize", NAME) is None
    assert not entry.exists()


def test_a_truncated_entry_is_a_miss(cache: buildcache.Cache) -> None:
    cache.put("kustomize", NAME, b"output\nkind: ConfigMap\n")
    entry = cache.root / "kustomize" / NAME[:2] / NAME
    entry.write_bytes(entry.read_bytes()[:-5])
    assert cache.get("kustomize", NAME) is None


def test_concurrent_writers_of_one_entry_leave_it_whole(cache: buildcache.Cache) -> None:
    payload = b"x" * 1_000_000
    writers = [threading.Thread(target=cache.put, args=("kustomize", NAME, payload)) for _ in range(8)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    assert cache.get("kustomize", NAME) == payload
    assert os.listdir(cache.root / "kustomize" / NAME[:2]) == [NAME]


def test_an_unwritable_folder_is_a_miss_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    cache = buildcache.Cache(tmp_path / "file" / "cache")
    cache.put("kustomize", NAME, b"data")
    assert cache.get("kustomize", NAME) is None


def test_over_its_bound_the_folder_loses_its_least_recently_used_entries(tmp_path: Path) -> None:
    names = [buildcache.key(str(i)) for i in range(3)]
    first = buildcache.Cache(tmp_path / "cache")
    for i, name in enumerate(names):
        first.put("kustomize", name, b"x" * 1000)
        os.utime(tmp_path / "cache" / "kustomize" / name[:2] / name, ns=(i * 10**9, i * 10**9))
    assert first.get("kustomize", names[0]) is not None  # used: now the most recent
    bounded = buildcache.Cache(tmp_path / "cache", max_bytes=3000)
    bounded.put("kustomize", buildcache.key("new"), b"x" * 1000)
    assert [bounded.get("kustomize", name) is not None for name in names] == [True, False, False]
    assert bounded.size() <= 3000


def test_clear_empties_the_folder(cache: buildcache.Cache) -> None:
    cache.put("kustomize", NAME, b"data")
    cache.clear()
    assert cache.get("kustomize", NAME) is None and cache.size() == 0

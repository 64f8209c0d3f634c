"""Artifact storage: digests, and source-controller's retention rules on the virtual clock."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

from gitops_sim import storage
from gitops_sim.model import archives
from gitops_sim.timing import clock as clocks


@pytest.fixture
def clock() -> clocks.VirtualClock:
    return clocks.VirtualClock()


@pytest.fixture
def store(tmp_path: Path, clock: clocks.VirtualClock) -> storage.Storage:
    return storage.Storage(tmp_path, "source-controller.flux-system.svc.cluster.local.", clock)


def put(store: storage.Storage, clock: clocks.VirtualClock, at_ms: int, name: str) -> str:
    clock.advance_to(clocks.Millis(at_ms))
    return store.store("GitRepository", "ns", "repo", name, {"f": name.encode()}, revision=name, now="t").path


def test_the_previous_artifact_is_kept_until_it_is_older_than_the_ttl(
    store: storage.Storage, clock: clocks.VirtualClock
) -> None:
    old = put(store, clock, 0, "a.tar.gz")
    current = put(store, clock, 30_000, "b.tar.gz")
    assert store.garbage_collect("GitRepository", "ns", "repo", keep=current) == []
    clock.advance_to(clocks.Millis(60_001))
    assert store.garbage_collect("GitRepository", "ns", "repo", keep=current) == [old]
    assert not (store.root / old).exists() and (store.root / current).exists()


def test_no_more_than_two_artifacts_are_retained_the_oldest_go_first(
    store: storage.Storage, clock: clocks.VirtualClock
) -> None:
    paths = [put(store, clock, t, f"{t}.tar.gz") for t in (0, 1_000, 2_000, 3_000)]
    assert store.garbage_collect("GitRepository", "ns", "repo", keep=paths[-1]) == paths[:2]


def test_the_current_artifact_is_never_collected_however_old(
    store: storage.Storage, clock: clocks.VirtualClock
) -> None:
    current = put(store, clock, 0, "a.tar.gz")
    put(store, clock, 1_000, "b.tar.gz")
    put(store, clock, 2_000, "c.tar.gz")
    clock.advance_to(clocks.Millis(10 * 60_000))
    assert current not in store.garbage_collect("GitRepository", "ns", "repo", keep=current)
    assert (store.root / current).exists()


def test_a_deleted_object_loses_every_artifact(store: storage.Storage, clock: clocks.VirtualClock) -> None:
    paths = [put(store, clock, t, f"{t}.tar.gz") for t in (0, 1_000)]
    assert store.garbage_collect("GitRepository", "ns", "repo", keep=None) == paths


def hostile_tar(*entries: tarfile.TarInfo) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for entry in entries:
            tar.addfile(entry, io.BytesIO(b"x" * entry.size))
    return out.getvalue()


def test_fetching_an_artifact_with_a_file_over_the_untar_limit_is_refused_before_reading_it(
    store: storage.Storage,
) -> None:
    big = tarfile.TarInfo("big.yaml")
    big.size = archives.MAX_UNTAR_BYTES + 1
    data = hostile_tar(big)
    artifact = store.store_blob("OCIRepository", "ns", "repo", "a.tar.gz", data, revision="r", now="t")
    with pytest.raises(storage.ArtifactError) as info:
        store.fetch(artifact)
    assert str(info.value) == (
        'failed to extract archive: tar "big.yaml" is bigger than max archive size of 104857600 bytes'
    )


def test_storing_files_with_a_dot_dot_name_is_refused(store: storage.Storage) -> None:
    with pytest.raises(archives.ArchiveError) as info:
        store.store("Bucket", "ns", "b", "a.tar.gz", {"a/../../x": b"x"}, revision="r", now="t")
    assert str(info.value) == 'tar contained invalid name error "a/../../x"'


def test_fetching_an_artifact_with_a_hard_link_gives_an_empty_file_as_go_tar_does(
    store: storage.Storage,
) -> None:
    link = tarfile.TarInfo("copy.yaml")
    link.type = tarfile.LNKTYPE
    link.linkname = "/etc/hostname"
    artifact = store.store_blob(
        "OCIRepository", "ns", "repo", "a.tar.gz", hostile_tar(link), revision="r", now="t"
    )
    assert dict(store.fetch(artifact)) == {"copy.yaml": b""}

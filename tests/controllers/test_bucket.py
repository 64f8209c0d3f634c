"""Bucket (generic S3): the index revision, ignore rules, auth, faults, as source-controller does."""

from __future__ import annotations

from gitops_sim.controllers import bucket
from gitops_sim.engine import simulation
from gitops_sim.sources import s3
from gitops_sim.testing import events_of, ready
from tests.builders import BUCKET, BUCKET_ENDPOINT, bucket_object, secret


def test_the_revision_is_the_digest_of_the_sorted_key_etag_index(sim: simulation.Simulation) -> None:
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", "apps/cm.yaml", b"kind: ConfigMap\n")
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", "apps/logo.png", b"png")  # buckets have no default excludes
    sim.cluster.apply(bucket_object(), field_manager="kubectl")
    sim.advance(1_000)
    obj = sim.cluster.get(BUCKET)
    client = s3.S3Client(sim.buckets.route, BUCKET_ENDPOINT, secure=False)
    revision = bucket.index_revision(client.list_objects("fleet"))
    assert obj["status"]["artifact"]["revision"] == revision
    assert obj["status"]["artifact"]["path"] == f"bucket/flux-system/fleet/{revision[7:]}.tar.gz"
    assert ready(obj) == {
        "status": "True",
        "reason": "Succeeded",
        "message": f"stored artifact: revision '{revision}'",
    }
    assert events_of(sim, BUCKET)[-1][2:] == (
        "NewArtifact",
        "stored artifact with 2 fetched files from 'fleet' bucket",
    )


def test_sourceignore_and_spec_ignore_leave_objects_out(sim: simulation.Simulation) -> None:
    for key in ("apps/a.yaml", "apps/b.yaml", "docs/readme.md"):
        sim.buckets.put(BUCKET_ENDPOINT, "fleet", key, b"x")
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", ".sourceignore", b"docs/\n")
    sim.cluster.apply(bucket_object(ignore="apps/b.yaml\n"), field_manager="kubectl")
    sim.advance(1_000)
    from gitops_sim.model import artifacts

    stored = sim.storage.fetch(artifacts.Artifact.from_status(sim.cluster.get(BUCKET)["status"]["artifact"]))
    assert sorted(stored) == ["apps/a.yaml"]


def test_a_new_object_changes_the_revision_at_the_next_interval(sim: simulation.Simulation) -> None:
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", "a.yaml", b"1")
    sim.cluster.apply(bucket_object(), field_manager="kubectl")
    sim.advance(1_000)
    first = sim.cluster.get(BUCKET)["status"]["artifact"]["revision"]
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", "b.yaml", b"2")
    sim.advance(60_000)
    assert sim.cluster.get(BUCKET)["status"]["artifact"]["revision"] != first


def test_a_missing_bucket_is_reported_as_flux_says(sim: simulation.Simulation) -> None:
    sim.buckets.put(BUCKET_ENDPOINT, "other", "a.yaml", b"1")
    sim.cluster.apply(bucket_object(), field_manager="kubectl")
    sim.advance(1_000)
    assert ready(sim.cluster.get(BUCKET)) == {
        "status": "False",
        "reason": "BucketOperationFailed",
        "message": "bucket 'fleet' not found",
    }


def test_keys_are_needed_where_the_bucket_requires_them(sim: simulation.Simulation) -> None:
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", "a.yaml", b"1")
    sim.buckets.bucket(BUCKET_ENDPOINT, "fleet").keys = s3.Keys("AKIAFLUX", "right")
    sim.cluster.apply(
        secret("s3", accesskey="AKIAFLUX", secretkey="wrong"),
        field_manager="kubectl",
    )
    sim.cluster.apply(bucket_object(secretRef={"name": "s3"}), field_manager="kubectl")
    sim.advance(1_000)
    assert (
        ready(sim.cluster.get(BUCKET))["message"]
        == "failed to confirm existence of 'fleet' bucket: Access Denied."
    )
    sim.cluster.apply(
        secret("s3", accesskey="AKIAFLUX", secretkey="right"),
        field_manager="kubectl",
    )
    sim.advance(60_000)
    assert ready(sim.cluster.get(BUCKET))["status"] == "True"


def test_an_unreachable_endpoint_is_reported_then_recovered(sim: simulation.Simulation) -> None:
    sim.buckets.put(BUCKET_ENDPOINT, "fleet", "a.yaml", b"1")
    sim.cluster.apply(bucket_object(), field_manager="kubectl")
    sim.advance(1_000)
    sim.buckets.unreachable.add(BUCKET_ENDPOINT)
    sim.advance(60_000)
    assert ready(sim.cluster.get(BUCKET))["message"] == (
        f"failed to confirm existence of 'fleet' bucket: Head \"http://{BUCKET_ENDPOINT}/fleet\": "
        f"dial tcp {BUCKET_ENDPOINT}: connect: connection refused"
    )
    sim.buckets.unreachable.clear()
    sim.advance(60_000)
    assert ready(sim.cluster.get(BUCKET))["status"] == "True"
    assert events_of(sim, BUCKET)[-1][1:3] == ("Normal", "Succeeded")

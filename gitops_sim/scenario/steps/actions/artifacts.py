"""Runs the publishing steps (declared in `steps.artifacts`) against the simulation's upstreams:
its OCI registries, chart repositories and S3 endpoints, through their public APIs. Never reads
the real time."""

from __future__ import annotations

from gitops_sim.model import archives
from gitops_sim.scenario import schema
from gitops_sim.scenario.steps import artifacts, registry
from gitops_sim.scenario.steps.actions import base
from gitops_sim.sources import charts, oci


@registry.performs(artifacts.PushArtifact)
def push_artifact(action: artifacts.PushArtifact, step: schema.Step, ctx: base.Context) -> None:
    host, name = ctx.sim.registries.host(action.url)
    client = oci.RegistryClient(ctx.sim.registries.route)
    layer = archives.pack({path: text.encode() for path, text in action.files.items()})
    digest = client.push_artifact(host, name, action.tag, layer, annotations=action.annotations)
    ctx.trace.record(
        "push-artifact", url=action.url, tag=action.tag, digest=digest, files=sorted(action.files)
    )


@registry.performs(artifacts.PushImage)
def push_image(action: artifacts.PushImage, step: schema.Step, ctx: base.Context) -> None:
    ctx.push_images(action.images, revision=action.revision, created=action.created)


@registry.performs(artifacts.DeleteTag)
def delete_tag(action: artifacts.DeleteTag, step: schema.Step, ctx: base.Context) -> None:
    """What `crane delete` or a registry's UI does to a tag: it leaves the tag list (the manifest
    stays, as in a registry where other tags may point at it)."""
    for image in action.images:
        repository, _, tag = image.rpartition(":")
        host, name = ctx.sim.registries.host(repository)
        ctx.sim.registries.server.delete_tag(host, name, tag)
        ctx.trace.record("delete-tag", image=image)


@registry.performs(artifacts.PublishChart)
def publish_chart(action: artifacts.PublishChart, step: schema.Step, ctx: base.Context) -> None:
    sim = ctx.sim
    try:
        if action.url.startswith("oci://"):  # `helm push` to a registry
            data, metadata = sim.charts.package(
                action.name, action.version, action.files or None, app_version=action.app_version
            )
            host, path = sim.registries.host(action.url)
            client = oci.RegistryClient(sim.registries.route)
            digest = client.push_chart(host, f"{path}/{action.name}".strip("/"), data, metadata)
        else:
            digest = sim.charts.publish(
                action.url, action.name, action.version, action.files or None, app_version=action.app_version
            )
    except charts.ChartError as exc:
        raise base.StepFailed(
            step.loc, f"publish-chart: {action.name} {action.version}: {exc.message}"
        ) from exc
    ctx.trace.record(
        "publish-chart", url=action.url, chart=action.name, version=action.version, digest=digest
    )


@registry.performs(artifacts.PutObject)
def put_object(action: artifacts.PutObject, step: schema.Step, ctx: base.Context) -> None:
    for key, content in sorted(action.objects.items()):
        ctx.sim.buckets.put(
            action.endpoint, action.bucket, key, None if content is None else content.encode()
        )
    ctx.trace.record(
        "put-object", endpoint=action.endpoint, bucket=action.bucket, keys=sorted(action.objects)
    )

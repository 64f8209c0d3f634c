"""The steps that publish to the scenario's upstreams other than git.

    push-artifact: {url: oci://host/name, tag, files: {path: text}, annotations}   (`flux push artifact`)
    push-image: an image reference or a list of them (host/name:tag), or
                {image: one or a list, revision: text (another build: another digest), created: time}
    delete-tag: an image reference or a list of them (host/name:tag): the tags leave the registry
    publish-chart: {url (a chart repository, or oci://), name, version, files, appVersion}
    put-object: {endpoint, bucket, objects: {key: text or null to delete}}

Declares the steps (schema side); `steps.actions.artifacts` runs them. Never imports a runtime
module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gitops_sim.model import duration as durations
from gitops_sim.scenario.located import LDict, Location
from gitops_sim.scenario.steps import fields, registry, shapes


@dataclass(frozen=True, slots=True)
class PushArtifact(registry.Action):
    url: str  # oci://host/name
    tag: str
    files: dict[str, str]
    annotations: dict[str, str]


@dataclass(frozen=True, slots=True)
class PushImage(registry.Action):
    images: tuple[str, ...]  # host/name:tag
    revision: str | None = None  # the build: the same tag pushed with another revision has another digest
    created: str | None = None  # the image config's creation time (RFC 3339)


@dataclass(frozen=True, slots=True)
class DeleteTag(registry.Action):
    images: tuple[str, ...]  # host/name:tag


@dataclass(frozen=True, slots=True)
class PublishChart(registry.Action):
    url: str  # the chart repository's URL
    name: str
    version: str
    files: dict[str, str]  # empty: what `helm create` makes
    app_version: str | None = None


@dataclass(frozen=True, slots=True)
class PutObject(registry.Action):
    endpoint: str
    bucket: str
    objects: dict[str, str | None]  # key -> content; None deletes


def _parse_push_artifact(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> PushArtifact:
    spec = fields.mapping(
        value, vloc, vwhere, ("url", "tag", "files", "annotations"), required=("url", "tag", "files")
    )
    url = fields.string(spec["url"], spec.value_locs["url"], f"{vwhere}.url")
    if not url.startswith("oci://") or "/" not in url.removeprefix("oci://"):
        raise fields.fail(spec.value_locs["url"], f"{vwhere}.url", "expected oci://<host>/<name>")
    annotations = spec.get("annotations") or LDict()
    if not isinstance(annotations, LDict):
        raise fields.fail(
            fields.child_loc(spec, "annotations"), f"{vwhere}.annotations", "expected a mapping"
        )
    files = fields.files(spec["files"], spec.value_locs["files"], f"{vwhere}.files", allow_null=False)
    return PushArtifact(
        url=url,
        tag=fields.string(spec["tag"], spec.value_locs["tag"], f"{vwhere}.tag"),
        files={k: v for k, v in files.items() if v is not None},
        annotations={
            k: fields.string(v, annotations.value_locs[k], f"{vwhere}.annotations.{k}")
            for k, v in annotations.items()
        },
    )


def _parse_push_image(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> PushImage:
    if not isinstance(value, LDict):
        return PushImage(fields.images(value, vloc, vwhere))
    spec = fields.mapping(value, vloc, vwhere, ("image", "revision", "created"), required=("image",))
    created = None
    if "created" in spec:
        created = fields.string(spec["created"], spec.value_locs["created"], f"{vwhere}.created")
        try:
            durations.parse_rfc3339(created)
        except ValueError as exc:
            raise fields.fail(
                spec.value_locs["created"], f"{vwhere}.created", f"expected an RFC 3339 time: {exc}"
            ) from exc
    return PushImage(
        fields.images(spec["image"], spec.value_locs["image"], f"{vwhere}.image"),
        revision=fields.string(spec["revision"], spec.value_locs["revision"], f"{vwhere}.revision")
        if "revision" in spec
        else None,
        created=created,
    )


def _parse_delete_tag(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> DeleteTag:
    return DeleteTag(fields.images(value, vloc, vwhere))


def _parse_publish_chart(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> PublishChart:
    spec = fields.mapping(
        value,
        vloc,
        vwhere,
        ("url", "name", "version", "files", "appVersion"),
        required=("url", "name", "version"),
    )
    files = (
        fields.files(spec["files"], spec.value_locs["files"], f"{vwhere}.files", allow_null=False)
        if "files" in spec
        else {}
    )
    return PublishChart(
        url=fields.string(spec["url"], spec.value_locs["url"], f"{vwhere}.url"),
        name=fields.string(spec["name"], spec.value_locs["name"], f"{vwhere}.name"),
        version=fields.string(spec["version"], spec.value_locs["version"], f"{vwhere}.version"),
        files={k: v for k, v in files.items() if v is not None},
        app_version=fields.string(spec["appVersion"], spec.value_locs["appVersion"], f"{vwhere}.appVersion")
        if "appVersion" in spec
        else None,
    )


def _parse_put_object(value: Any, vloc: Location, vwhere: str, ctx: fields.Context) -> PutObject:
    spec = fields.mapping(
        value, vloc, vwhere, ("endpoint", "bucket", "objects"), required=("endpoint", "bucket", "objects")
    )
    return PutObject(
        endpoint=fields.string(spec["endpoint"], spec.value_locs["endpoint"], f"{vwhere}.endpoint"),
        bucket=fields.string(spec["bucket"], spec.value_locs["bucket"], f"{vwhere}.bucket"),
        objects=fields.files(
            spec["objects"],
            spec.value_locs["objects"],
            f"{vwhere}.objects",
            allow_null=True,
            repo_paths=False,
        ),
    )


registry.declare(
    registry.Declaration(
        "push-artifact",
        _parse_push_artifact,
        "push-artifact: {url: oci://host/name, tag, files: {path: text}, annotations}",
        value_schema=shapes.mapping(
            "What `flux push artifact` does: the files in one tar+gzip layer, pushed to an OCI "
            "repository of the scenario's registry.",
            {
                "url": shapes.text(
                    "the OCI repository, oci://<host>/<name>",
                    pattern=r"^oci://[\s\S]*/",
                    examples=["oci://ghcr.io/acme/manifests"],
                ),
                "tag": shapes.string("the tag to push"),
                "files": shapes.files("file paths to their text", allow_null=False),
                "annotations": shapes.map_of(
                    "the manifest's annotations (org.opencontainers.image.revision, …)",
                    shapes.string("the annotation's value"),
                    type=["object", "null"],
                ),
            },
            required=("url", "tag", "files"),
        ),
    )
)
_IMAGE_BUILD = shapes.mapping(
    "Another build of a tag: another digest.",
    {
        "image": shapes.images("the image reference, or a list of them (host/name:tag)"),
        "revision": shapes.string("the build: the same tag pushed with another revision has another digest"),
        "created": shapes.text("the image config's creation time (RFC 3339)", format="date-time"),
    },
    required=("image",),
)
registry.declare(
    registry.Declaration(
        "push-image",
        _parse_push_image,
        "push-image: host/name:tag, or a list of them, or {image, revision, created}",
        value_schema=shapes.any_of(
            "What `docker push` does: an image reference or a list of them (host/name:tag), or "
            "{image, revision, created}.",
            shapes.image("an image reference, host/name:tag"),
            shapes.list_of("a list of image references", shapes.image("host/name:tag")),
            _IMAGE_BUILD,
        ),
    )
)
registry.declare(
    registry.Declaration(
        "delete-tag",
        _parse_delete_tag,
        "delete-tag: host/name:tag, or a list of them",
        value_schema=shapes.images(
            "An image reference or a list of them (host/name:tag): the tags leave the registry."
        ),
    )
)
registry.declare(
    registry.Declaration(
        "publish-chart",
        _parse_publish_chart,
        "publish-chart: {url, name, version, files, appVersion}",
        value_schema=shapes.mapping(
            "A Helm chart packaged with the Helm SDK and published to a chart repository (https://) "
            "or pushed to an OCI registry (oci://), as `helm push` does.",
            {
                "url": shapes.string(
                    "the chart repository's URL, or oci://host/path", examples=["https://charts.example.com"]
                ),
                "name": shapes.string("the chart's name"),
                "version": shapes.string("the chart's version (SemVer)", examples=["6.1.0"]),
                "files": shapes.files(
                    "the chart's files by path (Chart.yaml, templates/…); none: what `helm create` makes",
                    allow_null=False,
                ),
                "appVersion": shapes.string("the chart's appVersion"),
            },
            required=("url", "name", "version"),
        ),
    )
)
registry.declare(
    registry.Declaration(
        "put-object",
        _parse_put_object,
        "put-object: {endpoint, bucket, objects: {key: text or null}}",
        value_schema=shapes.mapping(
            "Objects written to (or deleted from) a bucket of the scenario's S3-compatible storage.",
            {
                "endpoint": shapes.string(
                    "the storage's endpoint, host:port", examples=["minio.example.com:9000"]
                ),
                "bucket": shapes.string("the bucket's name"),
                "objects": shapes.files(
                    "object keys to their text; null deletes the object", allow_null=True
                ),
            },
            required=("endpoint", "bucket", "objects"),
        ),
    )
)

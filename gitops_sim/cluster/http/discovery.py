"""Discovery and OpenAPI documents for the kinds a cluster serves.

Legacy discovery (`/api`, `/apis`, `/api/v1`, `/apis/<g>/<v>`) is what the Python client reads;
aggregated discovery (`APIGroupDiscoveryList`, chosen by the Accept header) is what kubectl and
client-go prefer. The OpenAPI v3 documents are minimal on purpose: one PATCH operation per kind,
declaring the `fieldValidation` parameter, which is what kubectl checks before it sends
`fieldValidation=Strict` (kube-api.md §1.3), and the component schemas `kubectl explain` reads.
`/openapi/v2` is `cluster.http.openapi`'s.

Short names and categories are each kind's own (`KindInfo.short_names`, `categories`): for
built-ins the real ones from `kinds.BUILTINS`, for custom kinds their CRD's.

Every served version of a kind is listed (a CRD's, one entry each), the group's preferred version
first: that is `preferredVersion` in legacy discovery and the first version in aggregated
discovery, as kube-apiserver orders them by version priority.

Callers: `cluster.http.server`. Pure functions over `KindInfo`s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from gitops_sim.cluster import kinds, schema

KUBERNETES_VERSION = {
    "major": "1",
    "minor": "37",
    "gitVersion": "v1.37.0",
    "gitCommit": "gitops-sim",
    "gitTreeState": "clean",
    "buildDate": "2026-01-01T00:00:00Z",
    "goVersion": "go1.25",
    "compiler": "gc",
    "platform": "linux/amd64",
}
VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"


def singular(info: kinds.KindInfo) -> str:
    return info.kind_singular or info.gvk.kind.lower()


def groups(infos: Iterable[kinds.KindInfo]) -> dict[str, dict[str, list[kinds.KindInfo]]]:
    """group -> version -> kinds: groups by name, each group's versions preferred first
    (`kinds.version_priority`, as the apiserver orders them; a CRD's every served version is there,
    so `kubectl get <plural>.<version>.<group>` finds any), kinds by plural."""
    out: dict[str, dict[str, list[kinds.KindInfo]]] = {}
    order = sorted(infos, key=lambda i: (i.gvk.group, kinds.version_priority(i.gvk.version), i.plural))
    for info in order:
        out.setdefault(info.gvk.group, {}).setdefault(info.gvk.version, []).append(info)
    return out


def _short_names(info: kinds.KindInfo) -> list[str]:
    return list(info.short_names)


def _categories(info: kinds.KindInfo) -> list[str]:
    return list(info.categories)


def resource_list(group_version: str, infos: list[kinds.KindInfo]) -> dict[str, Any]:
    resources: list[dict[str, Any]] = []
    for info in infos:
        entry: dict[str, Any] = {
            "name": info.plural,
            "singularName": singular(info),
            "namespaced": info.namespaced,
            "kind": info.gvk.kind,
            "verbs": VERBS,
        }
        if _short_names(info):
            entry["shortNames"] = _short_names(info)
        if _categories(info):
            entry["categories"] = _categories(info)
        resources.append(entry)
        if info.status_subresource:
            resources.append(
                {
                    "name": f"{info.plural}/status",
                    "singularName": "",
                    "namespaced": info.namespaced,
                    "kind": info.gvk.kind,
                    "verbs": ["get", "patch", "update"],
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    }


def api_versions(address: str) -> dict[str, Any]:
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": address}],
    }


def group_list(by_group: dict[str, dict[str, list[kinds.KindInfo]]]) -> dict[str, Any]:
    out = []
    for group, versions in by_group.items():
        if not group:
            continue
        listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
        out.append({"name": group, "versions": listed, "preferredVersion": listed[0]})
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": out}


def aggregated(by_group: dict[str, dict[str, list[kinds.KindInfo]]], *, core: bool) -> dict[str, Any]:
    items = []
    for group, versions in by_group.items():
        if (group == "") != core:
            continue
        listed = []
        for version, infos in versions.items():
            resources = []
            for info in infos:
                kind = {"group": group, "version": version, "kind": info.gvk.kind}
                entry: dict[str, Any] = {
                    "resource": info.plural,
                    "responseKind": kind,
                    "scope": "Namespaced" if info.namespaced else "Cluster",
                    "singularResource": singular(info),
                    "verbs": VERBS,
                }
                if _short_names(info):
                    entry["shortNames"] = _short_names(info)
                if _categories(info):
                    entry["categories"] = _categories(info)
                if info.status_subresource:
                    entry["subresources"] = [
                        {"subresource": "status", "responseKind": kind, "verbs": ["get", "patch", "update"]}
                    ]
                resources.append(entry)
            listed.append({"version": version, "freshness": "Current", "resources": resources})
        items.append({"metadata": {"name": group}, "versions": listed})
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }


def openapi_index(by_group: dict[str, dict[str, list[kinds.KindInfo]]]) -> dict[str, Any]:
    paths = {}
    for group, versions in by_group.items():
        for version in versions:
            key = f"apis/{group}/{version}" if group else "api/v1"
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash=gitops-sim"}
    return {"paths": paths}


def openapi_group_version(group: str, version: str, infos: list[kinds.KindInfo]) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    prefix = f"/apis/{group}/{version}" if group else "/api/v1"
    for info in infos:
        scope = "/namespaces/{namespace}" if info.namespaced else ""
        operation = {
            "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": info.gvk.kind},
            "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
            "requestBody": {
                "content": {
                    t: {}
                    for t in (
                        "application/json-patch+json",
                        "application/merge-patch+json",
                        "application/apply-patch+yaml",
                        *(["application/strategic-merge-patch+json"] if not info.custom else []),
                    )
                }
            },
            "responses": {"200": {"description": "OK"}},
        }
        paths[f"{prefix}{scope}/{info.plural}/{{name}}"] = {"patch": operation}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": component_schemas(infos)},
    }


def component_schemas(infos: list[kinds.KindInfo]) -> dict[str, Any]:
    """OpenAPI v3 component schemas for `infos` and what they reference (what `kubectl explain`
    reads): built-ins from the kubernetes-validate definitions, CRDs from their openAPIV3Schema."""
    defs, by_gvk = schema.builtin_definitions()
    out: dict[str, Any] = {}
    pending: list[str] = []
    for info in infos:
        if info.custom:
            if info.openapi:
                name = f"{'.'.join(reversed(info.gvk.group.split('.')))}.{info.gvk.version}.{info.gvk.kind}"
                gvk = {"group": info.gvk.group, "version": info.gvk.version, "kind": info.gvk.kind}
                out[name] = {**_openapi3(info.openapi), "x-kubernetes-group-version-kind": [gvk]}
            continue
        definition = by_gvk.get(info.gvk)
        if definition:
            pending.append(definition)
    while pending:
        name = pending.pop()
        if name in out or name not in defs:
            continue
        converted = _openapi3(defs[name])
        out[name] = converted
        pending.extend(_refs(converted))
    return dict(sorted(out.items()))


def _openapi3(node: Any) -> Any:
    """JSON-Schema spellings to OpenAPI 3.0 ones: `$defs` refs, and `type` lists with null."""
    if isinstance(node, list):
        return [_openapi3(v) for v in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "$ref" and isinstance(value, str):
            out[key] = value.replace("#/$defs/", "#/components/schemas/")
        elif key == "type" and isinstance(value, list):
            types = [t for t in value if t != "null"]
            out[key] = types[0] if len(types) == 1 else value
            if "null" in value:
                out["nullable"] = True
        else:
            out[key] = _openapi3(value)
    return out


def _refs(node: Any) -> list[str]:
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    if not isinstance(node, dict):
        return []
    found = [str(node["$ref"]).rpartition("/")[2]] if "$ref" in node else []
    return found + [r for v in node.values() for r in _refs(v)]

"""`flux2`, a Helm chart of Flux as gitops-sim simulates it: the third way to install Flux,
with the values a user of the community chart (fluxcd-community/helm-charts `charts/flux2`) sets
to choose components.

`files()` is the chart: Chart.yaml (`flux2`, version and appVersion Flux's), values.yaml and one
template per component (its ServiceAccount, Services and Deployment, under `<key>.create`), one
per component's CRDs (under `installCRDs` and `<key>.create`; in templates, as the community
chart keeps them, so upgrades change them), the RBAC (`rbac.create`) and the network policies
(`policies.create`). The objects are `flux install`'s (`fluxinstall.manifests`) in the release's
namespace, labelled `app.kubernetes.io/managed-by: Helm` and `helm.sh/chart: flux2-<version>`.

Values, with the community chart's names and defaults: `sourceController`, `kustomizeController`,
`helmController`, `notificationController`, `imageReflectionController`,
`imageAutomationController` (each `create: true`) and `sourceWatcher` (`create: false`), each
with `image` and `tag`; `installCRDs`, `logLevel`, `watchAllNamespaces`, `clusterDomain`,
`policies.create`, `rbac.create`.

Differences from the community chart, on purpose: the objects are shaped as `flux install`
makes them (cluster-scoped names end in `-<namespace>`, the pod templates carry Flux's labels,
`system-cluster-critical` priority), so that what `flux check` and the engine see is the same
whichever way Flux was installed; the chart has no pre-install `flux check --pre` Job, no
multitenancy, resources, tolerations or extra objects values.

Callers: the `helm` step and command (`helmcli`), `gitops-sim helm chart`, tests. Pure.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import yaml

from gitops_sim.model import flux, fluxinstall

VALUES_KEYS = {
    "source-controller": "sourceController",
    "kustomize-controller": "kustomizeController",
    "helm-controller": "helmController",
    "notification-controller": "notificationController",
    "image-reflector-controller": "imageReflectionController",
    "image-automation-controller": "imageAutomationController",
    "source-watcher": "sourceWatcher",
}
"""Each component's key in the values (the community chart's names)."""

VERSION = flux.FLUX_VERSION.removeprefix("v")
NAME = "flux2"

_NS, _REGISTRY, _LEVEL, _DOMAIN = "rel-ns-x", "registry.invalid/x", "loglevel-x", "domain.invalid"
"""Stand-ins the generated objects carry where the templates put a value."""


def values() -> dict[str, Any]:
    """values.yaml: what a user sets."""
    out: dict[str, Any] = {"installCRDs": True}
    for component, key in VALUES_KEYS.items():
        out[key] = {
            "create": component != "source-watcher",
            "image": f"ghcr.io/fluxcd/{component}",
            "tag": flux.CONTROLLER_VERSIONS[component],
        }
    out |= {
        "logLevel": "info",
        "watchAllNamespaces": True,
        "clusterDomain": "cluster.local",
        "policies": {"create": True},
        "rbac": {"create": True},
    }
    return out


_DUMPER: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
"""libyaml's emitter, which writes these files as PyYAML's Python one does (tested), ten times as
fast (a `helm install` of the chart spent a second writing them)."""


def _dump(value: Any) -> str:
    text: str = yaml.dump(value, Dumper=_DUMPER, sort_keys=False)
    return text


def files() -> dict[str, str]:
    """The chart's files by path inside the chart folder."""
    return dict(_files())


@functools.cache
def _files() -> dict[str, str]:
    docs = fluxinstall.manifests(
        fluxinstall.Options(
            components=flux.ALL_COMPONENTS,
            namespace=_NS,
            registry=_REGISTRY,
            log_level=_LEVEL,
            cluster_domain=_DOMAIN,
            extra_labels={"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": f"{NAME}-{VERSION}"},
        )
    )
    chart = {
        "apiVersion": "v2",
        "name": NAME,
        "description": "Flux, as gitops-sim simulates it (the community chart's values)",
        "type": "application",
        "version": VERSION,
        "appVersion": VERSION,
    }
    out = {
        "Chart.yaml": _dump(chart),
        "values.yaml": _dump(values()),
    }
    groups: dict[str, list[dict[str, Any]]] = {}
    for doc in docs:
        if doc["kind"] in ("Namespace", "ResourceQuota"):
            continue  # the release's namespace is Helm's (`--create-namespace`)
        component = (doc["metadata"].get("labels") or {}).get("app.kubernetes.io/component")
        if component is None:
            group = "rbac" if "rbac.authorization.k8s.io" in doc["apiVersion"] else "policies"
        elif doc["kind"] == "CustomResourceDefinition":
            group = f"{component}.crds"
        else:
            group = component
        groups.setdefault(group, []).append(doc)
    for group, group_docs in groups.items():
        body = _template("---\n".join(_dump(d) for d in group_docs))
        out[f"templates/{group}.yaml"] = f"{{{{- if {_condition(group)} }}}}\n{body}{{{{- end }}}}\n"
    return out


def _condition(group: str) -> str:
    if group == "rbac":
        return ".Values.rbac.create"
    if group == "policies":
        return ".Values.policies.create"
    component, _, crds = group.partition(".")
    key = VALUES_KEYS[component]
    return f"and .Values.installCRDs .Values.{key}.create" if crds else f".Values.{key}.create"


def _template(text: str) -> str:
    """The stand-ins replaced by template actions."""

    def image(found: re.Match[str]) -> str:
        key = VALUES_KEYS[found.group(1)]
        return f"{{{{ .Values.{key}.image }}}}:{{{{ .Values.{key}.tag }}}}"

    text = re.sub(rf"{re.escape(_REGISTRY)}/([a-z-]+):[^\s'\"]+", image, text)
    text = text.replace(
        "--watch-all-namespaces=true", "--watch-all-namespaces={{ .Values.watchAllNamespaces }}"
    )
    text = text.replace(_LEVEL, "{{ .Values.logLevel }}")
    # flux install adds the gate only alongside source-watcher: so does the chart.
    text = re.sub(
        r"^( *- --feature-gates=ExternalArtifact=true\n)",
        r"{{- if .Values.sourceWatcher.create }}\n\1{{- end }}\n",
        text,
        flags=re.MULTILINE,
    )
    text = text.replace(_DOMAIN, "{{ .Values.clusterDomain }}")
    return text.replace(_NS, "{{ .Release.Namespace }}")

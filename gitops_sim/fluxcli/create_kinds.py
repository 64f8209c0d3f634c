"""The objects `flux create` makes from each kind's flags (`create source git|helm|oci|bucket`,
`create kustomization|helmrelease|alert|alert-provider|receiver`, `create image
repository|policy|update`), as flux2's cmd/flux/create_*.go build them, with their checks in the
same order and the same words.

Each builder takes the parsed flags (`args`, an argparse namespace whose attributes are the
flags' names) and returns the object; the credential Secrets `create source helm` and `create
source bucket` make (`helm-<name>`, `bucket-<name>`) come from `helm_secret` and
`bucket_secret`. Local files (`--values`, `--ca-file`, `--cert-file`, `--key-file`) are read
through the session's folder reader, so a scenario reads only inside its own folder.

Differences, on purpose: Alert and Provider are made as notification.toolkit.fluxcd.io/v1, the
version Flux 2.10 serves them at (the CLI of 2.9 wrote v1beta3).

Callers: `fluxcli.command`. Pure over its inputs apart from the folder reader.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from gitops_sim.fluxcli.session import FluxError
from gitops_sim.helm import values as values_
from gitops_sim.model import duration, flux, objects, refs, semver

ReadFile = Callable[[str], bytes]
"""A local file's bytes, or FluxError (the session's folder reader, for one file)."""

OCI_PROVIDERS = ("generic", "aws", "azure", "gcp")
RECEIVER_TYPES = (  # the API's, but generic-oidc: the CLI does not offer it
    "generic",
    "generic-hmac",
    "github",
    "gitlab",
    "bitbucket",
    "harbor",
    "dockerhub",
    "quay",
    "gcr",
    "nexus",
    "acr",
    "cdevents",
)
CRDS_POLICIES = ("Skip", "Create", "CreateReplace")
HELMRELEASE_SOURCES = ("HelmRepository", "GitRepository", "Bucket")


def _object(
    gvk: refs.GVK, name: str, namespace: str, labels: dict[str, str], spec: dict[str, Any]
) -> objects.RawObject:
    """The object a `create` command makes: apiVersion, kind, name, namespace, labels, spec."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": gvk.api_version, "kind": gvk.kind, "metadata": meta, "spec": spec}


def _set(spec: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` unless `value` is empty (the API types' `omitempty`)."""
    if value:
        spec[key] = value


def _named(value: str) -> dict[str, str] | None:
    return {"name": value} if value else None


def enum(flag: str, allowed: tuple[str, ...], empty: str, unsupported: str) -> Callable[[str], str]:
    """A cobra enum flag's parser: the value, or `invalid argument "<v>" for "<flag>" flag: …`."""

    def parse(value: str) -> str:
        if value in allowed:
            return value
        reason = empty if not value else unsupported.format(value=value, allowed=", ".join(allowed))
        raise argparse.ArgumentTypeError(f'invalid argument "{value}" for "{flag}" flag: {reason}')

    return parse


# --- create source git, kustomization, image repository|policy|update ---------------------------


def git_repository(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    url, branch, tag, semver, commit, ref_name = (
        args.url,
        args.branch,
        args.tag,
        args.tag_semver,
        args.commit,
        args.ref_name,
    )
    if not url:
        raise FluxError("url is required")
    scheme = urlsplit(url).scheme
    if scheme not in ("ssh", "http", "https"):
        raise FluxError(f"git URL scheme '{scheme}' not supported, can be: ssh, http and https")
    if not (branch or tag or semver or commit or ref_name):
        raise FluxError(
            "a Git ref is required, use one of the following: "
            "--branch, --tag, --commit, --ref-name or --tag-semver"
        )
    ref: dict[str, str] = {}
    if commit:
        ref = {"commit": commit, **({"branch": branch} if branch else {})}
    elif ref_name:
        ref = {"name": ref_name}
    elif semver:
        ref = {"semver": semver}
    elif tag:
        ref = {"tag": tag}
    else:
        ref = {"branch": branch}
    spec: dict[str, Any] = {"interval": duration.format(args.interval), "ref": ref, "url": url}
    _set(spec, "secretRef", _named(args.secret_ref))
    return _object(flux.GITREPOSITORY, name, namespace, labels, spec)


def source_ref(text: str, namespace: str) -> dict[str, str]:
    """`--source [<kind>/]<name>[.<namespace>]` (GitRepository when no kind is given)."""
    kind, sep, rest = text.partition("/")
    if not sep:
        kind, rest = "GitRepository", text
    if kind not in ("GitRepository", "OCIRepository", "Bucket"):
        raise FluxError(
            f"source kind '{kind}' is not supported, must be one of: GitRepository, OCIRepository, Bucket"
        )
    name, _, ns = rest.partition(".")
    ref = {"kind": kind, "name": name}
    if ns and ns != namespace:
        ref["namespace"] = ns
    return ref


def kustomization(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    path, source = args.path, args.source
    if not path:
        raise FluxError("path is required")
    if not path.startswith("./"):
        raise FluxError("path must begin with ./")
    if not source:
        raise FluxError("source is required")
    spec: dict[str, Any] = {
        "interval": duration.format(args.interval),
        "path": path,
        "prune": args.prune,
        "sourceRef": source_ref(source, namespace),
    }
    _set(spec, "targetNamespace", args.target_namespace)
    if args.depends_on:
        spec["dependsOn"] = [
            {"name": d.split("/", 1)[1], "namespace": d.split("/", 1)[0]} if "/" in d else {"name": d}
            for d in args.depends_on
        ]
    if args.wait:
        spec["wait"] = True
        spec["timeout"] = duration.format(args.health_check_timeout)
    if args.retry_interval > 0:
        spec["retryInterval"] = duration.format(args.retry_interval)
    return _object(flux.KUSTOMIZATION, name, namespace, labels, spec)


def image_repository(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    image = args.image
    if not image:
        raise FluxError("an image repository (--image) is required")
    if ":" in image.rsplit("/", 1)[-1] or "@" in image or " " in image:
        raise FluxError(
            "unable to parse image value: repository can only contain the characters "
            f"`abcdefghijklmnopqrstuvwxyz0123456789_-./`: {image}"
        )
    spec: dict[str, Any] = {"image": image, "interval": duration.format(args.interval)}
    _set(spec, "secretRef", _named(args.secret_ref))
    return _object(flux.IMAGEREPOSITORY, name, namespace, labels, spec)


def image_policy(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    semver, alpha, numeric = args.select_semver, args.select_alpha, args.select_numeric
    if not args.image_ref:
        raise FluxError("the name of an ImageRepository in the namespace is required (--image-ref)")
    if sum(bool(x) for x in (semver, alpha, numeric)) > 1:
        raise FluxError("only one of --select-semver, --select-alpha or --select-numeric can be specified")
    if semver:
        policy: dict[str, Any] = {"semver": {"range": semver}}
    elif alpha:
        if alpha not in ("asc", "desc"):
            raise FluxError('--select-alpha must be one of ["asc", "desc"]')
        policy = {"alphabetical": {"order": alpha}}
    elif numeric:
        if numeric not in ("asc", "desc"):
            raise FluxError('--select-numeric must be one of ["asc", "desc"]')
        policy = {"numerical": {"order": numeric}}
    else:
        raise FluxError("a policy must be provided with either --select-semver or --select-alpha")
    spec: dict[str, Any] = {"imageRepositoryRef": {"name": args.image_ref}, "policy": policy}
    if args.filter_regex:
        spec["filterTags"] = {"pattern": args.filter_regex}
        _set(spec["filterTags"], "extract", args.filter_extract)
    elif args.filter_extract:
        raise FluxError("cannot specify --filter-extract without specifying --filter-regex")
    return _object(flux.IMAGEPOLICY, name, namespace, labels, spec)


def image_update(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    if not args.git_repo_ref:
        raise FluxError("a reference to a GitRepository is required (--git-repo-ref)")
    if not args.checkout_branch:
        raise FluxError("the Git repository branch is required (--checkout-branch)")
    if not args.author_name:
        raise FluxError("the author name is required (--author-name)")
    if not args.author_email:
        raise FluxError("the author email is required (--author-email)")
    commit: dict[str, Any] = {"author": {"email": args.author_email, "name": args.author_name}}
    _set(commit, "messageTemplate", args.commit_template)
    git: dict[str, Any] = {"checkout": {"ref": {"branch": args.checkout_branch}}, "commit": commit}
    _set(git, "push", {"branch": args.push_branch} if args.push_branch else None)
    source: dict[str, str] = {"kind": "GitRepository", "name": args.git_repo_ref}
    _set(source, "namespace", args.git_repo_namespace)
    spec: dict[str, Any] = {"git": git, "interval": duration.format(args.interval), "sourceRef": source}
    _set(spec, "update", {"path": args.git_repo_path, "strategy": "Setters"} if args.git_repo_path else None)
    return _object(flux.IMAGEUPDATEAUTOMATION, name, namespace, labels, spec)


# --- create source helm -------------------------------------------------------------------------


def helm_repository(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    if not args.url:
        raise FluxError("url is required")
    parts = urlsplit(args.url)
    if parts.scheme not in ("http", "https", "oci"):
        raise FluxError(f"url scheme '{parts.scheme}' not supported, can be: http, https and oci")
    if not parts.netloc:
        raise FluxError("url host is required")
    spec: dict[str, Any] = {"interval": duration.format(args.interval), "url": args.url}
    if parts.scheme == "oci":
        spec["type"] = "oci"
        _set(spec, "provider", args.oci_provider)
    if args.fetch_timeout > 0:
        spec["timeout"] = duration.format(args.fetch_timeout)
    if args.secret_ref:
        spec["secretRef"] = {"name": args.secret_ref}
        _set(spec, "passCredentials", args.pass_credentials)
    return _object(flux.HELMREPOSITORY, name, namespace, labels, spec)


def helm_secret(
    name: str, namespace: str, args: argparse.Namespace, read: ReadFile | None
) -> objects.RawObject | None:
    """The Secret `helm-<name>` with the repository's credentials (None: there are none): a TLS
    pair first, else basic auth, else the CA alone. `read`: None when no file flag is given."""
    ca = cert = key = ""
    if read is not None and args.ca_file:
        ca = read_text(read, args.ca_file, "unable to read TLS CA file")
    if read is not None and args.cert_file and args.key_file:
        cert = read_text(read, args.cert_file, "failed to read cert file")
        key = read_text(read, args.key_file, "failed to read key file")
    data: dict[str, str] = {}
    if cert and key:
        check_key_pair(cert, key)
        kind = "kubernetes.io/tls"
        data = {"tls.crt": cert, "tls.key": key}
    elif args.username or args.password:
        if not args.username:
            raise FluxError("username is required")
        if not args.password:
            raise FluxError("password is required")
        kind = "kubernetes.io/basic-auth"
        data = {"username": args.username, "password": args.password}
    else:
        kind = "Opaque"
    if ca:
        data["ca.crt"] = ca
    if not data:
        return None
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": f"helm-{name}", "namespace": namespace},
        "type": kind,
        "stringData": data,
    }


def read_text(read: ReadFile, path: str, what: str) -> str:
    try:
        return read(path).decode()
    except FluxError as exc:
        raise FluxError(f"{what}: {exc.message}") from exc
    except UnicodeDecodeError as exc:
        raise FluxError(f"{what}: {exc}") from exc


def check_key_pair(cert: str, key: str) -> None:
    """Go's tls.X509KeyPair, as far as the CLI's check goes: both parse and belong together."""
    try:
        certificate = x509.load_pem_x509_certificate(cert.encode())
    except ValueError as exc:
        raise FluxError(
            "invalid TLS certificate and key pair: tls: failed to find any PEM data in certificate input"
        ) from exc
    try:
        private = serialization.load_pem_private_key(key.encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise FluxError(
            "invalid TLS certificate and key pair: tls: failed to find any PEM data in key input"
        ) from exc
    fmt = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if certificate.public_key().public_bytes(enc, fmt) != private.public_key().public_bytes(enc, fmt):
        raise FluxError("invalid TLS certificate and key pair: tls: private key does not match public key")


# --- create source oci --------------------------------------------------------------------------


def oci_repository(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    if not args.url:
        raise FluxError("url is required")
    if not (args.tag_semver or args.tag or args.digest):
        raise FluxError("--tag, --tag-semver or --digest is required")
    spec: dict[str, Any] = {
        "interval": duration.format(args.interval),
        "provider": args.provider,
        "url": args.url,
    }
    if args.layer_selector:
        media, sep, operation = str(args.layer_selector).partition(":")
        bad = f"invalid --layer-selector {semver.go_quote(args.layer_selector)}"
        if not sep or not media or not operation:
            raise FluxError(f"{bad}: must be in the format '<media-type>:<operation>'")
        if operation not in ("extract", "copy"):
            raise FluxError(f'{bad}: operation must be "extract" or "copy"')
        spec["layerSelector"] = {"mediaType": media, "operation": operation}
    ref: dict[str, str] = {}
    _set(ref, "digest", args.digest)
    _set(ref, "semver", args.tag_semver)
    _set(ref, "tag", args.tag)
    spec["ref"] = ref
    _set(spec, "insecure", args.insecure)
    if args.ignore_paths:
        spec["ignore"] = "\n".join(args.ignore_paths)
    if args.fetch_timeout > 0:
        spec["timeout"] = duration.format(args.fetch_timeout)
    _set(spec, "serviceAccountName", args.service_account)
    _set(spec, "secretRef", _named(args.secret_ref))
    _set(spec, "proxySecretRef", _named(args.proxy_secret_ref))
    _set(spec, "certSecretRef", _named(args.cert_ref))
    if args.verify_provider:
        verify: dict[str, Any] = {"provider": args.verify_provider}
        _set(verify, "secretRef", _named(args.verify_secret_ref))
        if args.verify_issuer or args.verify_subject:
            verify["matchOIDCIdentity"] = [{"issuer": args.verify_issuer, "subject": args.verify_subject}]
        spec["verify"] = verify
    elif args.verify_secret_ref:
        raise FluxError("a verification provider must be specified when a secret is specified")
    elif args.verify_issuer or args.verify_subject:
        raise FluxError("a verification provider must be specified when OIDC issuer/subject is specified")
    return _object(flux.OCIREPOSITORY, name, namespace, labels, spec)


# --- create source bucket -----------------------------------------------------------------------


def bucket(name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]) -> objects.RawObject:
    if not args.bucket_name:
        raise FluxError("bucket-name is required")
    if not args.endpoint:
        raise FluxError("endpoint is required")
    spec: dict[str, Any] = {
        "bucketName": args.bucket_name,
        "endpoint": args.endpoint,
        "interval": duration.format(args.interval),
        "provider": args.provider,
    }
    _set(spec, "insecure", args.insecure)
    _set(spec, "region", args.region)
    if args.ignore_paths:
        spec["ignore"] = "\n".join(args.ignore_paths)
    if args.fetch_timeout > 0:
        spec["timeout"] = duration.format(args.fetch_timeout)
    _set(spec, "secretRef", _named(args.secret_ref))
    _set(spec, "proxySecretRef", _named(args.proxy_secret_ref))
    return _object(flux.BUCKET, name, namespace, labels, spec)


def bucket_secret(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject | None:
    """The Secret `bucket-<name>` with both keys (None unless both are given)."""
    if not (args.access_key and args.secret_key):
        return None
    meta: dict[str, Any] = {"name": f"bucket-{name}", "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "stringData": {"accesskey": args.access_key, "secretkey": args.secret_key},
    }


# --- create helmrelease -------------------------------------------------------------------------


def parse_source(value: str) -> dict[str, str]:
    """`--source <kind>/<name>[.<namespace>]` of `create helmrelease` (checked at flag parsing)."""
    flag = f'invalid argument "{value}" for "--source" flag: '
    if not value.strip():
        raise argparse.ArgumentTypeError(
            flag + "no helm chart source given, please specify source that contains the chart in the format "
            "'<kind>/<name>.<namespace>', where kind must be one of: (HelmRepository, GitRepository, Bucket)"
        )
    kind, name = _kind_name(value)
    if not kind or not name:
        raise argparse.ArgumentTypeError(
            flag + f"invalid helm chart source '{value}', must be in format <kind>/<name>"
        )
    canonical = next((k for k in HELMRELEASE_SOURCES if k.lower() == kind.lower()), None)
    if canonical is None:
        raise argparse.ArgumentTypeError(
            flag + f"source kind '{kind}' is not supported, must be one of: {', '.join(HELMRELEASE_SOURCES)}"
        )
    ref = {"kind": canonical, "name": name}
    if "." in name:
        ref["name"], _, ref["namespace"] = name.rpartition(".")
    return ref


def _kind_name(value: str) -> tuple[str, str]:
    """flux2's ParseObjectKindName: `<kind>/<name>` split at its one slash, else ("", value)."""
    parts = value.split("/")
    return (parts[0], parts[1]) if len(parts) == 2 else ("", value)


def helm_release(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str], read: ReadFile | None
) -> objects.RawObject:
    """The HelmRelease (the checks after `✚ generating HelmRelease`; `read`: None when no
    `--values` file is given)."""
    if args.reconcile_strategy not in ("Revision", "ChartVersion"):
        raise FluxError(
            f"'{args.reconcile_strategy}' is an invalid reconcile strategy(valid: Revision, ChartVersion)"
        )
    spec: dict[str, Any] = {"interval": duration.format(args.interval)}
    storage = args.storage_namespace or args.target_namespace
    _set(spec, "releaseName", args.release_name)
    _set(spec, "targetNamespace", args.target_namespace)
    _set(spec, "storageNamespace", storage)
    if args.depends_on:
        spec["dependsOn"] = [_depends_on(item) for item in args.depends_on]
    if args.chart_ref:
        kind, name_ns = _kind_name(args.chart_ref)
        if kind not in ("HelmChart", "OCIRepository"):
            raise FluxError(
                f"chart reference kind '{kind}' is not supported, must be one of: OCIRepository, HelmChart"
            )
        ref = {"kind": kind, "name": name_ns}
        if "." in name_ns:
            ref["name"], _, ref["namespace"] = name_ns.rpartition(".")
        spec["chartRef"] = ref
    else:
        source = dict(args.source or {"name": ""})
        chart: dict[str, Any] = {
            "chart": args.chart,
            "reconcileStrategy": args.reconcile_strategy,
            "sourceRef": source,
        }
        _set(chart, "version", args.chart_version)
        if args.chart_interval:
            chart["interval"] = duration.format(args.chart_interval)
        spec["chart"] = {"spec": chart}
    _set(
        spec,
        "kubeConfig",
        {"secretRef": {"name": args.kubeconfig_secret_ref}} if args.kubeconfig_secret_ref else None,
    )
    install: dict[str, Any] = {}
    if args.create_target_namespace:
        install["createNamespace"] = True
    _set(spec, "serviceAccountName", args.service_account)
    if args.crds:
        install["crds"] = "Create"
        spec["upgrade"] = {"crds": args.crds}
    _set(spec, "install", install)
    values: dict[str, Any] = {}
    for path in args.values:
        assert read is not None
        values = values_.merge_maps(values, _values_file(read, path))
    _set(spec, "values", values)
    if args.values_from:
        spec["valuesFrom"] = [_values_from(item) for item in args.values_from]
    return _object(flux.HELMRELEASE, name, namespace, labels, spec)


def _depends_on(item: str) -> dict[str, str]:
    item = item.partition("@")[0]
    ns, sep, name = item.partition("/")
    return {"name": name, "namespace": ns} if sep else {"name": item}


def _values_file(read: ReadFile, path: str) -> dict[str, Any]:
    raw = read_text(read, path, f"reading values from {path} failed")
    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise FluxError(f"converting values to JSON from {path} failed: {exc}") from exc
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise FluxError(
            f"unmarshaling values from {path} failed: json: cannot unmarshal {_json_kind(loaded)} "
            "into Go value of type map[string]interface {}"
        )
    return loaded


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    return "number"


def _values_from(item: str) -> dict[str, str]:
    kind, name = _kind_name(item)
    if not kind:
        raise FluxError(f"invalid Kubernetes object reference '{item}', must be in format <kind>/<name>")
    canonical = next((k for k in ("Secret", "ConfigMap") if k.lower() == kind.lower()), None)
    if canonical is None:
        raise FluxError(f"reference kind '{kind}' is not supported, must be one of: Secret, ConfigMap")
    return {"kind": canonical, "name": name}


# --- notification ---------------------------------------------------------------------------------


def alert_checks(args: argparse.Namespace) -> list[dict[str, str]]:
    """The Alert's checks before `✚ generating Alert`; its event sources."""
    if not args.provider_ref:
        raise FluxError("provider ref is required")
    sources = []
    for item in args.event_source:
        kind, name = _kind_name(item)
        if not kind:
            raise FluxError(f"invalid event source '{item}', must be in format <kind>/<name>")
        ref = {"kind": kind, "name": name}
        if "." in name:
            ref["name"], _, ref["namespace"] = name.rpartition(".")
        sources.append(ref)
    if not sources:
        raise FluxError("at least one event source is required")
    return sources


def alert(
    name: str, namespace: str, args: argparse.Namespace, sources: list[dict[str, str]], labels: dict[str, str]
) -> objects.RawObject:
    spec: dict[str, Any] = {"eventSources": sources, "providerRef": {"name": args.provider_ref}}
    _set(spec, "eventSeverity", args.event_severity)
    return _object(flux.ALERT, name, namespace, labels, spec)


def provider(
    name: str, namespace: str, args: argparse.Namespace, labels: dict[str, str]
) -> objects.RawObject:
    spec: dict[str, Any] = {"type": args.type}
    _set(spec, "channel", args.channel)
    _set(spec, "username", args.username)
    _set(spec, "address", args.address)
    _set(spec, "secretRef", _named(args.secret_ref))
    return _object(flux.PROVIDER, name, namespace, labels, spec)


def receiver_checks(args: argparse.Namespace) -> list[dict[str, str]]:
    """The Receiver's checks before `✚ generating Receiver`; its resources."""
    if not args.type:
        raise FluxError("Receiver type is required")
    if not args.secret_ref:
        raise FluxError("secret ref is required")
    resources = []
    for item in args.resource:
        kind, name = _kind_name(item)
        if not kind:
            raise FluxError(f"invalid event source '{item}', must be in format <kind>/<name>")
        resources.append({"kind": kind, "name": name})
    if not resources:
        raise FluxError("atleast one resource is required")
    return resources


def receiver(
    name: str,
    namespace: str,
    args: argparse.Namespace,
    resources: list[dict[str, str]],
    labels: dict[str, str],
) -> objects.RawObject:
    spec: dict[str, Any] = {"resources": resources, "secretRef": {"name": args.secret_ref}, "type": args.type}
    _set(spec, "events", list(args.event))
    return _object(flux.RECEIVER, name, namespace, labels, spec)


# --- the kinds that print `✚ generating …` before their last checks -------------------------------

GENERATED_BEFORE_CHECKS = ("helmrelease", "alert", "alert-provider", "receiver")


def first_checks(kind: str, args: argparse.Namespace) -> list[dict[str, str]]:
    """The checks `kind` makes before its labels and `✚ generating …`; the references they read
    (an Alert's event sources, a Receiver's resources)."""
    if kind == "alert":
        return alert_checks(args)
    if kind == "receiver":
        return receiver_checks(args)
    if kind == "alert-provider" and not args.type:
        raise FluxError("Provider type is required")
    if kind == "helmrelease":
        if not args.chart and not args.chart_ref:
            raise FluxError("chart or chart-ref is required")
        if args.chart and args.chart_ref:
            raise FluxError("cannot use --chart in combination with --chart-ref")
    return []


def late(
    kind: str,
    name: str,
    namespace: str,
    args: argparse.Namespace,
    found: list[dict[str, str]],
    labels: dict[str, str],
    read: ReadFile | None,
) -> objects.RawObject:
    """The object of one of `GENERATED_BEFORE_CHECKS`, after `first_checks` gave `found`."""
    if kind == "helmrelease":
        return helm_release(name, namespace, args, labels, read)
    if kind == "alert":
        return alert(name, namespace, args, found, labels)
    if kind == "receiver":
        return receiver(name, namespace, args, found, labels)
    return provider(name, namespace, args, labels)

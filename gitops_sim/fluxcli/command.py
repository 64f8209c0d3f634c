"""A flux command line, parsed as the real CLI parses it, run, and its exit code.

`run(argv, connect, out, err)` parses `argv` (what follows `flux`), asks `connect(flags)` for a
session only when the command needs a cluster, runs the command and returns its exit code. A
command that fails prints `✗ <message>` on stderr and exits 1, as flux2's main does; a bad
command line fails the same way (cobra's words where the message is ours to choose: `unknown
flag`, `accepts 1 arg(s)`).

Flags read as cobra reads them: `--flag=value` or `--flag value`; the root flags (`-n/
--namespace`, default flux-system; `--timeout`, default 5m0s; `--kubeconfig`; `--context`) are
accepted before or after the command. A list flag (`--components-extra=a,b`) is split on commas
and kept verbatim, so a stray space becomes part of a component name and is refused as the real
CLI refuses it.

Callers: the `gitops-sim flux` command (`cli`) and the scenario step `flux:`.
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn, TextIO

from gitops_sim.cluster import errors
from gitops_sim.fluxcli import bootstrap as bootstraps
from gitops_sim.fluxcli import build as builds
from gitops_sim.fluxcli import create as creates
from gitops_sim.fluxcli import create_kinds
from gitops_sim.fluxcli import get as gets
from gitops_sim.fluxcli import github as githubs
from gitops_sim.fluxcli import inspect as inspects
from gitops_sim.fluxcli import install as installs
from gitops_sim.fluxcli import logs as fluxlogs
from gitops_sim.fluxcli import migrate as migrates
from gitops_sim.fluxcli import reconcile as reconciles
from gitops_sim.fluxcli.session import DEFAULT_TIMEOUT_MS, FluxError, Log, Session

__all__ = ["DEFAULT_TIMEOUT_MS", "DNS_LABEL", "Flags", "parser", "run"]
from gitops_sim.model import duration, flux, fluxinstall, objects, semver


@dataclass(frozen=True, slots=True)
class Flags:
    """The root flags: where the cluster is, the namespace and the timeout."""

    kubeconfig: str | None
    context: str | None
    namespace: str
    timeout_ms: int


DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
"""A namespace name (apimachinery's IsDNS1123Label), what the CLI requires of `-n`."""


class _Help(Exception):
    """A command that only groups others was run alone: cobra prints its usage and exits 0."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        commands = [a for a in self._actions if isinstance(a, argparse._SubParsersAction)]
        if commands and message.startswith("the following arguments are required: "):
            raise _Help(self._usage(commands[0]))
        flag_error = re.fullmatch(r"argument [^:]+: (invalid argument .*)", message, re.DOTALL)
        if flag_error:  # an enum flag's own words, as cobra reports a flag's Set error
            raise FluxError(flag_error.group(1))
        raise FluxError(message.replace("unrecognized arguments:", "unknown flag:"))

    def _usage(self, commands: argparse._SubParsersAction[Any]) -> str:
        """cobra's usage of a parent command: its form and its sub-commands, by name."""
        names: dict[int, str] = {}
        for name, sub in commands.choices.items():
            names.setdefault(id(sub), name)
        listed = "".join(f"  {name}\n" for name in sorted(names.values()))
        return (
            f"Usage:\n  {self.prog} [command]\n\nAvailable Commands:\n{listed}\n"
            f'Use "{self.prog} [command] --help" for more information about a command.\n'
        )


def _timeout(text: str) -> int:
    try:
        return duration.parse(text)
    except duration.DurationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _root_flags(parser: argparse.ArgumentParser, defaults: bool, namespace: str = "flux-system") -> None:
    """The root flags, on the root and again on each command (cobra's persistent flags); only
    the root parser sets their defaults, so a flag given before the command is kept."""
    suppress = argparse.SUPPRESS
    parser.add_argument("--kubeconfig", default=None if defaults else suppress)
    parser.add_argument("--context", default=None if defaults else suppress)
    parser.add_argument("-n", "--namespace", default=namespace if defaults else suppress)
    parser.add_argument("--timeout", type=_timeout, default=DEFAULT_TIMEOUT_MS if defaults else suppress)


def _components(parser: argparse.ArgumentParser, components: bool = True) -> None:
    if components:
        parser.add_argument(
            "--components", type=fluxinstall.split_components, default=flux.DEFAULT_COMPONENTS
        )
    parser.add_argument("--components-extra", type=fluxinstall.split_components, default=())


def _bool(text: str) -> bool:
    if text.lower() in ("true", "1", "t"):
        return True
    if text.lower() in ("false", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f"invalid boolean value {text!r}")


@functools.lru_cache(maxsize=4)
def parser(namespace: str = "flux-system") -> argparse.ArgumentParser:
    """The command line of `flux`; `namespace` is `-n`'s default. Built once (90 ms, a scenario's
    `flux` steps used to build it for every command line); parsing leaves it unchanged."""
    root = _Parser(prog="flux", add_help=False)
    _root_flags(root, defaults=True, namespace=namespace)
    verbs = root.add_subparsers(dest="verb", required=True, parser_class=_Parser)

    def verb(name: str, *aliases: str) -> argparse.ArgumentParser:
        p = verbs.add_parser(name, aliases=list(aliases), add_help=False)
        _root_flags(p, defaults=False)
        return p

    check = verb("check")
    check.add_argument("--pre", action="store_true")
    _components(check)
    check.add_argument("--poll-interval", type=_timeout, default=installs.STATUS_POLL_MS)

    install = verb("install")
    _components(install)
    install.add_argument("--export", action="store_true")
    install.add_argument("--registry", default="ghcr.io/fluxcd")
    install.add_argument("--network-policy", type=_bool, nargs="?", const=True, default=True)
    install.add_argument("--watch-all-namespaces", type=_bool, nargs="?", const=True, default=True)
    install.add_argument("--log-level", choices=("debug", "info", "error"), default="info")
    install.add_argument("--cluster-domain", default="cluster.local")
    install.add_argument("--force", action="store_true")

    version = verb("version")
    version.add_argument("--client", action="store_true")
    version.add_argument("-o", "--output", default="yaml")

    uninstall = verb("uninstall")
    uninstall.add_argument("--keep-namespace", action="store_true")
    uninstall.add_argument("--dry-run", action="store_true")
    uninstall.add_argument("-s", "--silent", action="store_true")

    for name in ("reconcile", "suspend", "resume"):
        _object_verb(verb(name), name)

    for name in ("build", "diff"):
        kinds = verb(name).add_subparsers(dest="what", required=True, parser_class=_Parser)
        ks = kinds.add_parser("kustomization", aliases=["ks"], add_help=False)
        _root_flags(ks, defaults=False)
        ks.add_argument("name", nargs="?")
        ks.add_argument("--path", default="")
        ks.add_argument("--kustomization-file", default="")
        if name == "build":
            ks.add_argument("--dry-run", action="store_true")

    events = verb("events")
    events.add_argument("--for", dest="for_", default="")
    events.add_argument("--types", type=lambda t: tuple(t.split(",")) if t else (), default=())
    events.add_argument("-A", "--all-namespaces", action="store_true")
    events.add_argument("-w", "--watch", action="store_true")

    flux_logs = verb("logs")
    flux_logs.add_argument("args", nargs="*")
    flux_logs.add_argument("-A", "--all-namespaces", action="store_true")
    flux_logs.add_argument("--flux-namespace", default="flux-system")
    flux_logs.add_argument("-f", "--follow", action="store_true")
    flux_logs.add_argument("--kind", default="")
    flux_logs.add_argument("--name", default="")
    flux_logs.add_argument(
        "--level",
        default=None,
        type=create_kinds.enum(
            "--level",
            ("debug", "info", "error"),
            "no log level given, must be one of: debug, info, error",
            "unsupported log level '{value}', must be one of: {allowed}",
        ),
    )
    flux_logs.add_argument("--since", type=_timeout, default=0)
    flux_logs.add_argument("--since-time", default="")
    flux_logs.add_argument("--tail", type=int, default=-1)

    tree = verb("tree").add_subparsers(dest="what", required=True, parser_class=_Parser)
    tree_ks = tree.add_parser("kustomization", aliases=["ks"], add_help=False)
    _root_flags(tree_ks, defaults=False)
    tree_ks.add_argument("name", nargs="?")
    tree_ks.add_argument("--compact", action="store_true")

    verb("stats").add_argument("-A", "--all-namespaces", action="store_true")

    exports = verb("export").add_subparsers(dest="what", required=True, parser_class=_Parser)
    for name, gvk, aliases in _EXPORTED:
        q = exports.add_parser(name, aliases=list(aliases), add_help=False)
        _root_flags(q, defaults=False)
        q.set_defaults(export_kind=gvk)
        q.add_argument("names", nargs="*")
        q.add_argument("--all", action="store_true")
    for parent_name, children in (("source", _EXPORTED_SOURCES), ("image", _EXPORTED_IMAGES)):
        parent = exports.add_parser(parent_name, add_help=False).add_subparsers(
            dest="sub", required=True, parser_class=_Parser
        )
        for name, gvk in children:
            q = parent.add_parser(name, add_help=False)
            _root_flags(q, defaults=False)
            q.set_defaults(export_kind=gvk)
            q.add_argument("names", nargs="*")
            q.add_argument("--all", action="store_true")

    _create_parsers(verb("create"))

    migrate = verb("migrate")
    migrate.add_argument("-f", "--path", default="")
    migrate.add_argument("-e", "--extensions", type=lambda t: tuple(t.split(",")), default=(".yaml", ".yml"))
    migrate.add_argument("--dry-run", action="store_true")
    migrate.add_argument("-y", "--yes", action="store_true")

    deletes = verb("delete")
    _object_verb(deletes, "delete")

    bootstrap = verb("bootstrap")
    providers = bootstrap.add_subparsers(dest="provider", required=True, parser_class=_Parser)
    plain = providers.add_parser("git", add_help=False)
    hub = providers.add_parser("github", add_help=False)
    hub.add_argument("--owner", default="")
    hub.add_argument("--repository", default="")
    hub.add_argument("--personal", type=_bool, nargs="?", const=True, default=False)
    hub.add_argument("--private", type=_bool, nargs="?", const=True, default=True)
    hub.add_argument("--read-write-key", type=_bool, nargs="?", const=True, default=False)
    for q in (plain, hub):
        _bootstrap_flags(q)
    plain.add_argument("--url", default="")
    plain.add_argument("-u", "--username", default="git")
    plain.add_argument("-p", "--password", default="")
    plain.add_argument("--with-bearer-token", type=_bool, nargs="?", const=True, default=False)
    plain.add_argument("--allow-insecure-http", type=_bool, nargs="?", const=True, default=False)
    plain.add_argument("-s", "--silent", action="store_true")

    get = verb("get")
    kinds = get.add_subparsers(dest="what", required=True, parser_class=_Parser)

    def table(name: str, key: str, *aliases: str, show_source: bool = False) -> None:
        p = kinds.add_parser(name, aliases=list(aliases), add_help=False)
        _get_flags(p, show_source)
        p.set_defaults(table=key)

    sources = kinds.add_parser("sources", aliases=["source"], add_help=False)
    source_kinds = sources.add_subparsers(dest="source", required=True, parser_class=_Parser)
    for name, key in (
        ("git", "git"),
        ("oci", "oci"),
        ("helm", "helm"),
        ("chart", "chart"),
        ("bucket", "bucket"),
    ):
        p = source_kinds.add_parser(name, add_help=False)
        _get_flags(p, False)
        p.set_defaults(table=key)
    p = source_kinds.add_parser("all", add_help=False)
    _get_flags(p, False)
    p.set_defaults(tables=gets.SOURCES_ALL)
    images = kinds.add_parser("images", aliases=["image"], add_help=False)
    image_kinds = images.add_subparsers(dest="image", required=True, parser_class=_Parser)
    for name, key in (
        ("repository", "image-repository"),
        ("policy", "image-policy"),
        ("update", "image-update"),
    ):
        p = image_kinds.add_parser(name, add_help=False)
        _get_flags(p, False)
        p.set_defaults(table=key)
    p = image_kinds.add_parser("all", add_help=False)
    _get_flags(p, False)
    p.set_defaults(tables=gets.IMAGES_ALL)
    table("kustomizations", "kustomization", "kustomization", "ks", show_source=True)
    table("helmreleases", "helmrelease", "helmrelease", "hr", show_source=True)
    table("alerts", "alert", "alert")
    table("alert-providers", "alert-provider", "alert-provider")
    table("receivers", "receiver", "receiver", "rcv")
    p = kinds.add_parser("all", add_help=False)
    _get_flags(p, False)
    p.set_defaults(tables=gets.ALL)
    return root


def _create_parsers(create: argparse.ArgumentParser) -> None:
    """`create source git|helm|oci|bucket`, `create kustomization|helmrelease|alert|alert-provider|
    receiver` and `create image repository|policy|update`, each with create's own flags."""
    kinds = create.add_subparsers(dest="what", required=True, parser_class=_Parser)
    groups = {
        name: kinds.add_parser(name, add_help=False).add_subparsers(
            dest="sub", required=True, parser_class=_Parser
        )
        for name in ("source", "image")
    }

    def leaf(key: str, parent: str = "", aliases: tuple[str, ...] = ()) -> argparse.ArgumentParser:
        name = key.rpartition(" ")[2]
        q = (groups[parent] if parent else kinds).add_parser(name, aliases=list(aliases), add_help=False)
        _root_flags(q, defaults=False)
        q.set_defaults(create_kind=key)
        q.add_argument("name", nargs="?")
        q.add_argument("--export", action="store_true")
        q.add_argument("--interval", type=_timeout, default=60_000)
        q.add_argument("--label", type=_list, action="extend", default=[])
        if parent == "source":
            q.add_argument("--fetch-timeout", type=_timeout, default=0)
        return q

    def strings(q: argparse.ArgumentParser, *flags: str) -> None:
        for flag in flags:
            q.add_argument(flag, default="")

    def switches(q: argparse.ArgumentParser, *flags: str) -> None:
        for flag in flags:
            q.add_argument(flag, type=_bool, nargs="?", const=True, default=False)

    git = leaf("source git", "source")
    strings(git, "--url", "--branch", "--tag", "--tag-semver", "--commit", "--ref-name", "--secret-ref")
    helm = leaf("source helm", "source")
    strings(helm, "--url", "--cert-file", "--key-file", "--ca-file", "--secret-ref", "--oci-provider")
    helm.add_argument("-u", "--username", default="")
    helm.add_argument("-p", "--password", default="")
    switches(helm, "--pass-credentials")
    oci = leaf("source oci", "source")
    providers = _provider_enum("--provider", create_kinds.OCI_PROVIDERS, "OCI provider")
    oci.add_argument("--provider", type=providers, default="generic")
    strings(
        oci, "--url", "--tag", "--tag-semver", "--digest", "--secret-ref", "--proxy-secret-ref",
        "--service-account", "--cert-ref", "--verify-secret-ref", "--verify-subject", "--verify-issuer",
        "--layer-selector",
    )  # fmt: skip
    oci.add_argument(
        "--verify-provider",
        default=None,
        type=create_kinds.enum(
            "--verify-provider",
            ("cosign",),
            "no source OCI verify provider given, please specify the OCI verify provider name to use for "
            "signature verification, available options are: (cosign)",
            "source OCI verify provider '{value}' is not supported, must be one of: {allowed}",
        ),
    )
    oci.add_argument("--ignore-paths", type=_list, action="extend", default=[])
    switches(oci, "--insecure")
    bucket = leaf("source bucket", "source")
    bucket.add_argument(
        "--provider",
        type=_provider_enum("--provider", create_kinds.OCI_PROVIDERS, "bucket provider", s3=True),
        default="generic",
    )
    strings(
        bucket,
        "--bucket-name",
        "--endpoint",
        "--access-key",
        "--secret-key",
        "--region",
        "--secret-ref",
        "--proxy-secret-ref",
    )
    bucket.add_argument("--ignore-paths", type=_list, action="extend", default=[])
    switches(bucket, "--insecure")

    ks = leaf("kustomization", aliases=("ks",))
    ks.add_argument("--source", default="")
    ks.add_argument("--path", default="")
    ks.add_argument("--prune", type=_bool, nargs="?", const=True, default=False)
    ks.add_argument("--wait", type=_bool, nargs="?", const=True, default=False)
    ks.add_argument("--retry-interval", type=_timeout, default=0)
    ks.add_argument("--health-check-timeout", type=_timeout, default=120_000)
    ks.add_argument("--target-namespace", default="")
    ks.add_argument("--depends-on", type=_list, action="extend", default=[])

    hr = leaf("helmrelease", aliases=("hr",))
    strings(
        hr, "--release-name", "--chart", "--chart-version", "--target-namespace", "--storage-namespace",
        "--service-account", "--kubeconfig-secret-ref", "--chart-ref",
    )  # fmt: skip
    hr.add_argument("--source", type=create_kinds.parse_source, default=None)
    hr.add_argument("--depends-on", type=_list, action="extend", default=[])
    switches(hr, "--create-target-namespace")
    hr.add_argument("--reconcile-strategy", default="ChartVersion")
    hr.add_argument("--chart-interval", type=_timeout, default=0)
    hr.add_argument("--values", type=_list, action="extend", default=[])
    hr.add_argument("--values-from", type=_list, action="extend", default=[])
    hr.add_argument(
        "--crds",
        default=None,
        type=create_kinds.enum(
            "--crds",
            create_kinds.CRDS_POLICIES,
            "no upgrade CRDs policy given, must be one of: Skip, Create, CreateReplace",
            "unsupported upgrade CRDs policy '{value}', must be one of: {allowed}",
        ),
    )

    alert = leaf("alert")
    strings(alert, "--provider-ref", "--event-severity")
    alert.add_argument("--event-source", type=_list, action="extend", default=[])
    provider = leaf("alert-provider")
    strings(provider, "--type", "--channel", "--username", "--address", "--secret-ref")
    receiver = leaf("receiver")
    receiver.add_argument(
        "--type",
        default=None,
        type=create_kinds.enum(
            "--type",
            create_kinds.RECEIVER_TYPES,
            "no receiver type given, please specify the receiver type",
            "receiver type '{value}' is not supported, must be one of: {allowed}",
        ),
    )
    receiver.add_argument("--secret-ref", default="")
    receiver.add_argument("--event", type=_list, action="extend", default=[])
    receiver.add_argument("--resource", type=_list, action="extend", default=[])

    strings(leaf("image repository", "image"), "--image", "--secret-ref")
    strings(
        leaf("image policy", "image"),
        "--image-ref", "--select-semver", "--select-alpha", "--select-numeric", "--filter-regex",
        "--filter-extract",
    )  # fmt: skip
    strings(
        leaf("image update", "image"),
        "--git-repo-ref", "--git-repo-namespace", "--git-repo-path", "--checkout-branch", "--push-branch",
        "--commit-template", "--author-name", "--author-email",
    )  # fmt: skip


def _provider_enum(flag: str, allowed: tuple[str, ...], what: str, s3: bool = False) -> Callable[[str], str]:
    """The `--provider` enum of `create source oci` and `create source bucket`."""
    name = "the S3 compatible storage provider name" if s3 else "the OCI provider name"
    return create_kinds.enum(
        flag,
        allowed,
        f"no source {what} given, please specify {name}",
        f"source {what} '{{value}}' is not supported, must be one of: {{allowed}}",
    )


def _list(text: str) -> list[str]:
    """A cobra string-slice flag: comma-separated values (repeatable)."""
    return [item for item in text.split(",")] if text else []


def _bootstrap_flags(plain: argparse.ArgumentParser) -> None:
    """The flags `bootstrap git` and `bootstrap github` share."""
    _root_flags(plain, defaults=False)
    _components(plain)
    plain.add_argument("--branch", default="main")
    plain.add_argument("--path", default="")
    plain.add_argument("--interval", type=_timeout, default=60_000)
    plain.add_argument("--token-auth", type=_bool, nargs="?", const=True, default=False)
    plain.add_argument("--secret-name", default="flux-system")
    plain.add_argument("--author-name", default="Flux")
    plain.add_argument("--author-email", default="")
    plain.add_argument("--commit-message-appendix", default="")
    plain.add_argument("--registry", default="ghcr.io/fluxcd")
    plain.add_argument("--network-policy", type=_bool, nargs="?", const=True, default=True)
    plain.add_argument("--watch-all-namespaces", type=_bool, nargs="?", const=True, default=True)
    plain.add_argument("--log-level", choices=("debug", "info", "error"), default="info")
    plain.add_argument("--cluster-domain", default="cluster.local")
    plain.add_argument("--force", action="store_true")


_OBJECT_KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kustomization": ("kustomization", ("ks",)),
    "helmrelease": ("helmrelease", ("hr",)),
    "receiver": ("receiver", ()),
    "alert": ("alert", ()),
    "alert-provider": ("alert-provider", ()),
}
_EXPORTED = (
    ("kustomization", flux.KUSTOMIZATION, ("ks",)),
    ("helmrelease", flux.HELMRELEASE, ("hr",)),
    ("alert", flux.ALERT, ()),
    ("alert-provider", flux.PROVIDER, ()),
    ("receiver", flux.RECEIVER, ()),
)
_EXPORTED_SOURCES = (
    ("git", flux.GITREPOSITORY),
    ("oci", flux.OCIREPOSITORY),
    ("helm", flux.HELMREPOSITORY),
    ("chart", flux.HELMCHART),
    ("bucket", flux.BUCKET),
)
_EXPORTED_IMAGES = (
    ("repository", flux.IMAGEREPOSITORY),
    ("policy", flux.IMAGEPOLICY),
    ("update", flux.IMAGEUPDATEAUTOMATION),
)
_RECONCILED = {"kustomization", "helmrelease", "receiver"}
"""The kinds `flux reconcile` has besides sources and images (alerts have no reconcile)."""


def _object_verb(p: argparse.ArgumentParser, verb: str) -> None:
    """`reconcile|suspend|resume <kind> NAME…`, with each verb's flags."""
    kinds = p.add_subparsers(dest="kind", required=True, parser_class=_Parser)

    def leaf(
        parent: argparse._SubParsersAction[_Parser],
        name: str,
        key: str,
        aliases: tuple[str, ...] = (),
    ) -> None:
        q = parent.add_parser(name, aliases=list(aliases), add_help=False)
        _root_flags(q, defaults=False)
        q.set_defaults(object_kind=key)
        if verb == "reconcile":
            q.add_argument("names", nargs="*")
            if key in ("kustomization", "helmrelease", "source chart"):
                q.add_argument("--with-source", action="store_true")
            if key == "helmrelease":
                q.add_argument("--force", action="store_true")
                q.add_argument("--reset", action="store_true")
        elif verb == "delete":
            q.add_argument("names", nargs="*")
            q.add_argument("-s", "--silent", action="store_true")
        else:
            q.add_argument("names", nargs="*")
            q.add_argument("--all", action="store_true")
            if verb == "resume":
                q.add_argument("--wait", type=_bool, nargs="?", const=True, default=None)

    source = kinds.add_parser("source", add_help=False)
    sources = source.add_subparsers(dest="source", required=True, parser_class=_Parser)
    for name in ("git", "oci", "helm", "chart", "bucket"):
        leaf(sources, name, f"source {name}")
    image = kinds.add_parser("image", add_help=False)
    images = image.add_subparsers(dest="image", required=True, parser_class=_Parser)
    for name in ("repository", "policy", "update"):
        leaf(images, name, f"image {name}")
    for name, (key, aliases) in _OBJECT_KINDS.items():
        if verb != "reconcile" or name in _RECONCILED:
            leaf(kinds, name, key, aliases)


def _install_options(args: argparse.Namespace, namespace: str) -> fluxinstall.Options:
    """The install flags (`install`, `bootstrap`), the components checked as the CLI checks them."""
    opts = fluxinstall.Options(
        components=args.components,
        components_extra=args.components_extra,
        namespace=namespace,
        registry=args.registry,
        network_policy=args.network_policy,
        watch_all_namespaces=args.watch_all_namespaces,
        log_level=args.log_level,
        cluster_domain=args.cluster_domain,
    )
    try:
        opts.all_components()
    except fluxinstall.ComponentError as exc:
        raise FluxError(str(exc)) from exc
    return opts


_FLOWS = {
    "source git": creates.Flow("GitRepository source"),
    "source helm": creates.Flow("HelmRepository source", created="source"),
    "source oci": creates.Flow("OCIRepository", generate=False),
    "source bucket": creates.Flow("Bucket source"),
    "kustomization": creates.Flow("Kustomization"),
    "helmrelease": creates.Flow("HelmRelease", generate=False),
    "alert": creates.Flow("Alert", generate=False, static=True),
    "alert-provider": creates.Flow("Provider", generate=False, static=True),
    "receiver": creates.Flow("Receiver", generate=False),
    "image repository": creates.Flow("ImageRepository"),
    "image policy": creates.Flow("ImagePolicy"),
    "image update": creates.Flow("ImageUpdateAutomation"),
}
"""How each `create` command applies and waits (`create.Flow`)."""


def _create(args: argparse.Namespace, flags: Flags, connect: Callable[[Flags], Session], out: TextIO) -> None:
    """`flux create …`: the name and labels checked first (create's pre-run), then the kind's
    own checks; `--export` prints the object and touches no cluster."""
    name = creates.checked_name(args.name)
    namespace, kind, export = flags.namespace, args.create_kind, args.export
    flow = _FLOWS[kind]
    session: Session | None = None

    def reader() -> create_kinds.ReadFile:
        nonlocal session
        session = session or connect(flags)
        read_folder = session.read_folder
        if read_folder is None:
            raise FluxError("this session cannot read local files")

        def read(path: str) -> bytes:
            found = read_folder(path)
            if "" not in found:
                raise FluxError(f"open {path}: is a directory")
            return found[""]

        return read

    secret: tuple[objects.RawObject, str] | None = None
    if kind in create_kinds.GENERATED_BEFORE_CHECKS:
        found_refs = create_kinds.first_checks(kind, args)
        labels = creates.labels(args.label)
        if not export:
            session = connect(flags)
            session.log.generate(f"generating {flow.what}")
        read = reader() if kind == "helmrelease" and args.values else None
        obj = create_kinds.late(kind, name, namespace, args, found_refs, labels, read)
    elif kind == "source helm":
        obj = create_kinds.helm_repository(name, namespace, args, creates.labels(args.label))
        if not export:
            files = args.ca_file or (args.cert_file and args.key_file)
            found = create_kinds.helm_secret(name, namespace, args, reader() if files else None)
            if found is not None and not args.secret_ref:
                obj["spec"]["secretRef"] = {"name": found["metadata"]["name"]}
                if args.pass_credentials:
                    obj["spec"]["passCredentials"] = True
                secret = (found, "applying secret with repository credentials")
    elif kind == "source bucket":
        labels = creates.labels(args.label)
        obj = create_kinds.bucket(name, namespace, args, labels)
        found = create_kinds.bucket_secret(name, namespace, args, labels)
        if found is not None and not args.secret_ref and not export:
            obj["spec"]["secretRef"] = {"name": found["metadata"]["name"]}
            secret = (found, "applying secret with the bucket credentials")
    elif kind == "source oci":
        obj = create_kinds.oci_repository(name, namespace, args, creates.labels(args.label))
    else:
        obj = _CLASSIC[kind](name, namespace, args, creates.labels(args.label))
    if export:
        out.write(builds.to_yaml([obj]))
        return
    creates.create(session or connect(flags), obj, flow, secret)


_CLASSIC = {
    "source git": create_kinds.git_repository,
    "kustomization": create_kinds.kustomization,
    "image repository": create_kinds.image_repository,
    "image policy": create_kinds.image_policy,
    "image update": create_kinds.image_update,
}
"""The create commands whose checks all come before `✚ generating …` and make no Secret."""


def _build(args: argparse.Namespace, flags: Flags, connect: Callable[[Flags], Session]) -> None:
    """`build kustomization` (a dry run reads no cluster) and `diff kustomization` (exit 1 on a
    difference)."""
    if not args.name:
        raise FluxError("kustomization name is required")
    if not args.path:
        raise FluxError(f'invalid resource path "{args.path}"')
    dry_run = args.verb == "build" and args.dry_run
    if dry_run and not args.kustomization_file:
        raise FluxError("dry-run mode requires a kustomization file")
    session = connect(flags)
    if session.read_folder is None:
        raise FluxError("this session cannot read local folders")
    files = session.read_folder(args.path)
    file = None
    if args.kustomization_file:
        file = session.read_folder(args.kustomization_file).get("")
        if file is None:
            raise FluxError(f'invalid kustomization file "{args.kustomization_file}"')
    obj = builds.kustomization(session, args.name, file)
    built = builds.build_objects(session, obj, files, dry_run=dry_run)
    if args.verb == "build":
        session.out.write(builds.to_yaml(built))
        return
    if builds.diff(session, obj, built):
        raise FluxError("identified at least one change, exiting with non-zero exit code", warning=True)


def _get_flags(p: argparse.ArgumentParser, show_source: bool) -> None:
    _root_flags(p, defaults=False)
    p.add_argument("name", nargs="?")
    p.add_argument("-A", "--all-namespaces", action="store_true")
    p.add_argument("--no-header", action="store_true")
    p.add_argument("-w", "--watch", action="store_true")
    p.add_argument("--status-selector", default="")
    p.add_argument("-l", "--label-selector", default="")
    if show_source:
        p.add_argument("--show-source", action="store_true")


def run(
    argv: Sequence[str],
    connect: Callable[[Flags], Session],
    out: TextIO,
    err: TextIO,
    *,
    namespace: str = "flux-system",
    local_files: bool = False,
) -> int:
    """Run one flux command line; its exit code (0, or 1 after `✗ <message>` on `err`).
    `namespace` is `-n`'s default; `local_files`: commands may write files on this machine
    (`migrate -f`, from the command line only)."""
    try:
        args = parser(namespace).parse_args(list(argv))
        flags = Flags(args.kubeconfig, args.context, args.namespace, args.timeout)
        if args.verb != "create" and not DNS_LABEL.fullmatch(flags.namespace):  # create's pre-run replaces it
            raise FluxError(f"namespace must be a valid DNS label: {semver.go_quote(flags.namespace)}")
        if args.verb == "migrate" and args.path:
            if not local_files:
                raise FluxError(
                    "migrate -f writes local files: run it with gitops-sim flux, not in a scenario"
                )
            migrates.files(
                Log(err),
                Path(args.path),
                extensions=args.extensions,
                dry_run=args.dry_run,
                yes=args.yes,
            )
            return 0
        _dispatch(args, flags, connect, out)
    except _Help as shown:
        out.write(shown.text)
        return 0
    except FluxError as exc:
        if exc.message:
            err.write(f"{'⚠️' if exc.warning else '✗'} {exc.message}\n")
        return exc.code
    except errors.ApiError as exc:  # what the API answered, as the CLI prints a client error
        err.write(f"✗ {exc.message}\n")
        return 1
    return 0


def _dispatch(
    args: argparse.Namespace, flags: Flags, connect: Callable[[Flags], Session], out: TextIO
) -> None:
    if args.verb == "version" and args.client:
        out.write(f"flux: {flux.FLUX_VERSION}\n")
        return
    if args.verb == "install" and args.export:
        out.write(fluxinstall.render(_install_options(args, flags.namespace)))
        return
    if args.verb in ("build", "diff"):
        _build(args, flags, connect)
        return
    if args.verb == "create":
        _create(args, flags, connect, out)
        return
    session = connect(flags)
    if args.verb == "check":
        installs.check(session, pre=args.pre)
    elif args.verb == "install":
        installs.install(session, _install_options(args, flags.namespace), force=args.force)
    elif args.verb == "version":
        installs.version(session, args.output)
    elif args.verb == "uninstall":
        if not args.silent and not args.dry_run:
            raise FluxError("aborting")  # the real CLI asks for confirmation; nobody answers here
        installs.uninstall(session, keep_namespace=args.keep_namespace, dry_run=args.dry_run)
    elif args.verb == "reconcile":
        kind = reconciles.KINDS[args.object_kind]
        if not args.names:
            raise FluxError(f"{kind.gvk.kind} name is required")
        reconciles.reconcile(
            session,
            args.object_kind,
            args.names[0],
            with_source=getattr(args, "with_source", False),
            force=getattr(args, "force", False),
            reset=getattr(args, "reset", False),
        )
    elif args.verb == "bootstrap":
        github = args.provider == "github"
        boot = bootstraps.Options(
            url="" if github else args.url,
            branch=args.branch,
            path=args.path,
            interval_ms=args.interval,
            username="git" if github else args.username,
            password="" if github else args.password,
            token_auth=args.token_auth,
            bearer=False if github else args.with_bearer_token,
            allow_insecure_http=False if github else args.allow_insecure_http,
            silent=github or args.silent,
            secret_name=args.secret_name,
            author_name=args.author_name,
            author_email=args.author_email,
            appendix=args.commit_message_appendix,
            install=_install_options(args, flags.namespace),
        )
        if github:
            githubs.bootstrap(
                session,
                boot,
                owner=args.owner,
                repository=args.repository,
                personal=args.personal,
                private=args.private,
                read_write_key=args.read_write_key,
            )
        else:
            bootstraps.bootstrap(session, boot)
    elif args.verb == "events":
        inspects.events(
            session, for_=args.for_, types=args.types, all_namespaces=args.all_namespaces, watch=args.watch
        )
    elif args.verb == "logs":
        if args.args:
            raise FluxError("no argument required")
        fluxlogs.logs(
            session,
            fluxlogs.Filters(
                level=args.level or "",
                kind=args.kind,
                name=args.name,
                namespace=None if args.all_namespaces else flags.namespace,
            ),
            flux_namespace=args.flux_namespace,
            tail=args.tail,
            follow=args.follow,
            since_ms=args.since,
            since_time=args.since_time,
        )
    elif args.verb == "tree":
        if not args.name:
            raise FluxError("kustomization name is required")
        inspects.tree(session, args.name, compact=args.compact)
    elif args.verb == "stats":
        inspects.stats(session, all_namespaces=args.all_namespaces)
    elif args.verb == "export":
        inspects.export(session, args.export_kind, args.names, all_objects=args.all)
    elif args.verb == "migrate":
        migrates.cluster(session)
    elif args.verb == "delete":
        creates.delete(session, args.object_kind, args.names, silent=args.silent)
    elif args.verb == "suspend":
        reconciles.suspend(session, args.object_kind, args.names, all_objects=args.all)
    elif args.verb == "resume":
        reconciles.resume(session, args.object_kind, args.names, all_objects=args.all, wait=args.wait)
    elif args.verb == "get":
        query = gets.Query(
            name=args.name,
            all_namespaces=args.all_namespaces,
            labels=args.label_selector,
            status_selector=args.status_selector,
            no_header=args.no_header,
            show_source=getattr(args, "show_source", False),
        )
        tables = getattr(args, "tables", None)
        if tables is not None:
            if args.watch:
                raise FluxError("expected a single resource type, but found all")
            gets.get_all(session, tables, query)
        elif args.watch:
            gets.watch(session, args.table, query)
        else:
            gets.get(session, args.table, query)

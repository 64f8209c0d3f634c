"""`flux create source helm|oci|bucket`, `create helmrelease`, `create alert`, `create
alert-provider` and `create receiver`: the objects they export, the lines they print while they
apply and wait, and their refusals, in Flux's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitops_sim.engine import simulation
from gitops_sim.model import objects, refs
from gitops_sim.scenario.steps.actions import flux
from tests.builders import HELM_URL, secret
from tests.fluxcli.conftest import Flux, Ran

CHART = {
    "Chart.yaml": "apiVersion: v2\nname: web\nversion: 1.0.0\n",
    "values.yaml": "message: hello\n",
    "templates/cm.yaml": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n"
        "data:\n  message: {{ .Values.message | quote }}\n"
    ),
}


def test_create_source_helm_export_prints_the_object(flux_cmd: Flux) -> None:
    assert flux_cmd("create", "source", "helm", "podinfo", "--url=oci://ghcr.io/acme/charts", "--export") == (
        0,
        "---\n"
        "apiVersion: source.toolkit.fluxcd.io/v1\n"
        "kind: HelmRepository\n"
        "metadata:\n"
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  interval: 1m0s\n"
        "  type: oci\n"
        "  url: oci://ghcr.io/acme/charts\n",
        "",
    )


def test_create_source_oci_export_keeps_the_default_provider(flux_cmd: Flux) -> None:
    ran = flux_cmd(
        "create", "source", "oci", "podinfo", "--url=oci://ghcr.io/acme/manifests", "--tag=6.3.5",
        "--interval=10m", "--verify-provider=cosign", "--verify-issuer=github", "--export",
    )  # fmt: skip
    assert ran.out == (
        "---\n"
        "apiVersion: source.toolkit.fluxcd.io/v1\n"
        "kind: OCIRepository\n"
        "metadata:\n"
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  interval: 10m0s\n"
        "  provider: generic\n"
        "  ref:\n"
        "    tag: 6.3.5\n"
        "  url: oci://ghcr.io/acme/manifests\n"
        "  verify:\n"
        "    matchOIDCIdentity:\n"
        "    - issuer: github\n"
        "      subject: ''\n"
        "    provider: cosign\n"
    )


def test_create_helmrelease_export_prints_the_object(flux_cmd: Flux) -> None:
    ran = flux_cmd(
        "create", "hr", "podinfo", "--source=HelmRepository/podinfo", "--chart=podinfo",
        "--target-namespace=apps", "--depends-on=infra/redis", "--crds=CreateReplace", "--export",
    )  # fmt: skip
    assert ran.out == (
        "---\n"
        "apiVersion: helm.toolkit.fluxcd.io/v2\n"
        "kind: HelmRelease\n"
        "metadata:\n"
        "  name: podinfo\n"
        "  namespace: flux-system\n"
        "spec:\n"
        "  chart:\n"
        "    spec:\n"
        "      chart: podinfo\n"
        "      reconcileStrategy: ChartVersion\n"
        "      sourceRef:\n"
        "        kind: HelmRepository\n"
        "        name: podinfo\n"
        "  dependsOn:\n"
        "  - name: redis\n"
        "    namespace: infra\n"
        "  install:\n"
        "    crds: Create\n"
        "  interval: 1m0s\n"
        "  storageNamespace: apps\n"
        "  targetNamespace: apps\n"
        "  upgrade:\n"
        "    crds: CreateReplace\n"
    )


def test_create_helmrelease_merges_values_files_read_in_the_scenario_folder(
    sim: simulation.Simulation, tmp_path: Path
) -> None:
    (tmp_path / "base.yaml").write_text("replicas: 1\nimage: {tag: '1.0', pull: Always}\n")
    (tmp_path / "prod.yaml").write_text("image: {tag: '2.0'}\n")
    code, out, _ = flux.run(
        sim,
        ["create", "hr", "web", "--chart=web", "--values=base.yaml,prod.yaml", "--export"],
        folder=tmp_path,
    )
    assert code == 0
    assert "  values:\n    image:\n      pull: Always\n      tag: '2.0'\n    replicas: 1\n" in out


def test_create_notification_kinds_export_their_objects(flux_cmd: Flux) -> None:
    alert = flux_cmd(
        "create", "alert", "on-call", "--provider-ref=slack", "--event-severity=error",
        "--event-source=Kustomization/*,GitRepository/fleet.flux-system", "--export",
    )  # fmt: skip
    assert alert.out.splitlines()[1:] == [
        "apiVersion: notification.toolkit.fluxcd.io/v1",
        "kind: Alert",
        "metadata:",
        "  name: on-call",
        "  namespace: flux-system",
        "spec:",
        "  eventSeverity: error",
        "  eventSources:",
        "  - kind: Kustomization",
        "    name: '*'",
        "  - kind: GitRepository",
        "    name: fleet",
        "    namespace: flux-system",
        "  providerRef:",
        "    name: slack",
    ]
    receiver = flux_cmd(
        "create", "receiver", "github", "--type=github", "--event=ping,push", "--secret-ref=token",
        "--resource=GitRepository/fleet", "--export",
    )  # fmt: skip
    assert receiver.out.splitlines()[6:] == [
        "spec:",
        "  events:",
        "  - ping",
        "  - push",
        "  resources:",
        "  - kind: GitRepository",
        "    name: fleet",
        "  secretRef:",
        "    name: token",
        "  type: github",
    ]


def test_create_source_helm_and_helmrelease_apply_and_wait(
    sim: simulation.Simulation, flux_cmd: Flux
) -> None:
    sim.charts.publish(HELM_URL, "web", "1.0.0", CHART)
    helm = flux_cmd("create", "source", "helm", "stable", f"--url={HELM_URL}")
    assert helm.code == 0
    lines = helm.err.splitlines()
    assert lines[:5] == [
        "✚ generating HelmRepository source",
        "► applying HelmRepository source",
        "✔ source created",
        "◎ waiting for HelmRepository source reconciliation",
        "✔ HelmRepository source reconciliation completed",
    ]
    assert lines[5].startswith("✔ fetched revision: sha256:")
    assert flux_cmd(
        "create", "hr", "web", "--source=HelmRepository/stable", "--chart=web", "--target-namespace=default"
    ) == (
        0,
        "",
        "✚ generating HelmRelease\n"
        "► applying HelmRelease\n"
        "✔ HelmRelease created\n"
        "◎ waiting for HelmRelease reconciliation\n"
        "✔ HelmRelease web is ready\n"
        "✔ applied revision 1.0.0\n",
    )
    made = sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "default-web"))  # <target>-<name>
    assert made["data"] == {"message": "hello"}


def test_create_source_helm_with_credentials_makes_their_secret_first(
    sim: simulation.Simulation, flux_cmd: Flux
) -> None:
    sim.charts.publish(HELM_URL, "web", "1.0.0", CHART)
    ran = flux_cmd("create", "source", "helm", "stable", f"--url={HELM_URL}", "-u", "bot", "-p", "s3cret")
    assert ran.err.splitlines()[:5] == [
        "✚ generating HelmRepository source",
        "► applying secret with repository credentials",
        "✔ authentication configured",
        "► applying HelmRepository source",
        "✔ source created",
    ]
    made = sim.cluster.get(refs.ObjectRef("", "Secret", "flux-system", "helm-stable"))
    assert made["type"] == "kubernetes.io/basic-auth"
    assert sorted(made["data"]) == ["password", "username"]
    repo = sim.cluster.get(
        refs.ObjectRef("source.toolkit.fluxcd.io", "HelmRepository", "flux-system", "stable")
    )
    assert repo["spec"]["secretRef"] == {"name": "helm-stable"}


def test_create_alert_provider_and_alert_are_ready_once_they_exist(flux_cmd: Flux) -> None:
    assert flux_cmd("create", "alert-provider", "slack", "--type=slack", "--channel=ops") == (
        0,
        "",
        "✚ generating Provider\n"
        "► applying Provider\n"
        "✔ Provider created\n"
        "◎ waiting for Provider reconciliation\n"
        "✔ Provider slack is ready\n",
    )
    ran = flux_cmd("create", "alert", "on-call", "--provider-ref=slack", "--event-source=Kustomization/*")
    assert ran.err.splitlines()[-1] == "✔ Alert on-call is ready"


def test_create_receiver_prints_its_webhook_path(sim: simulation.Simulation, flux_cmd: Flux) -> None:
    sim.cluster.apply(secret("token", token="abc"), field_manager="kubectl")
    ran = flux_cmd(
        "create", "receiver", "hook", "--type=generic", "--secret-ref=token", "--resource=GitRepository/fleet"
    )
    assert ran.code == 0
    assert ran.err.splitlines()[-2] == "✔ Receiver hook is ready"
    made = sim.cluster.get(
        refs.ObjectRef("notification.toolkit.fluxcd.io", "Receiver", "flux-system", "hook")
    )
    assert ran.err.splitlines()[-1] == f"✔ generated webhook URL {made['status']['webhookPath']}"
    assert made["status"]["webhookPath"].startswith("/hook/")


def test_create_again_replaces_labels_and_spec(sim: simulation.Simulation, flux_cmd: Flux) -> None:
    flux_cmd("create", "alert-provider", "slack", "--type=slack", "--channel=ops", "--label=team=a")
    again = flux_cmd("create", "alert-provider", "slack", "--type=slack", "--label=tier=b")
    assert "✔ Provider updated" in again.err
    made = sim.cluster.get(
        refs.ObjectRef("notification.toolkit.fluxcd.io", "Provider", "flux-system", "slack")
    )
    assert made["metadata"]["labels"] == {"tier": "b"}
    assert "channel" not in made["spec"]
    assert objects.ref_of(made).name == "slack"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (("create", "hr", "x"), "name 'x' is invalid, it should adhere to standard defined in RFC 1123, the "
         "name can only contain alphanumeric characters or '-'"),
        (("create", "alert-provider"), "name is required"),
        (("create", "hr", "web"), "chart or chart-ref is required"),
        (("create", "hr", "web", "--chart=a", "--chart-ref=HelmChart/a"),
         "cannot use --chart in combination with --chart-ref"),
        (("create", "hr", "web", "--source=Foo/bar"),
         'invalid argument "Foo/bar" for "--source" flag: source kind \'Foo\' is not supported, must be one '
         "of: HelmRepository, GitRepository, Bucket"),
        (("create", "hr", "web", "--crds=Never"),
         'invalid argument "Never" for "--crds" flag: unsupported upgrade CRDs policy \'Never\', must be one '
         "of: Skip, Create, CreateReplace"),
        (("create", "source", "oci", "podinfo", "--provider=ibm"),
         'invalid argument "ibm" for "--provider" flag: source OCI provider \'ibm\' is not supported, '
         "must be one of: generic, aws, azure, gcp"),
        (("create", "source", "oci", "podinfo", "--url=oci://r/a"),
         "--tag, --tag-semver or --digest is required"),
        (("create", "source", "oci", "podinfo", "--url=oci://r/a", "--tag=1", "--layer-selector=a:move"),
         'invalid --layer-selector "a:move": operation must be "extract" or "copy"'),
        (("create", "source", "oci", "podinfo", "--url=oci://r/a", "--tag=1", "--verify-secret-ref=k"),
         "a verification provider must be specified when a secret is specified"),
        (("create", "source", "helm", "podinfo", "--url=ftp://h"),
         "url scheme 'ftp' not supported, can be: http, https and oci"),
        (("create", "source", "bucket", "fleet"), "bucket-name is required"),
        (("create", "source", "bucket", "fleet", "--bucket-name=b"), "endpoint is required"),
        (("create", "alert", "on-call"), "provider ref is required"),
        (("create", "alert", "on-call", "--provider-ref=slack"), "at least one event source is required"),
        (("create", "alert-provider", "slack"), "Provider type is required"),
        (("create", "receiver", "hook", "--type=svn"),
         'invalid argument "svn" for "--type" flag: receiver type \'svn\' is not supported, must be one '
         "of: generic, generic-hmac, github, gitlab, bitbucket, harbor, dockerhub, quay, gcr, nexus, acr, "
         "cdevents"),
        (("create", "receiver", "hook", "--type=github"), "secret ref is required"),
        (("create", "receiver", "hook", "--type=github", "--secret-ref=t"),
         "atleast one resource is required"),
        (("create", "alert-provider", "slack", "--type=slack", "--label=a=b=c"),
         "invalid label format 'a=b=c', must be key=value"),
    ],
)  # fmt: skip
def test_bad_create_input_fails_with_the_cli_s_words(
    flux_cmd: Flux, argv: tuple[str, ...], message: str
) -> None:
    assert flux_cmd(*argv) == Ran(1, "", f"✗ {message}\n")


def test_a_helmrelease_s_checks_after_generating_print_that_line_first(flux_cmd: Flux) -> None:
    assert flux_cmd("create", "hr", "web", "--chart=web", "--reconcile-strategy=Latest") == (
        1,
        "",
        "✚ generating HelmRelease\n"
        "✗ 'Latest' is an invalid reconcile strategy(valid: Revision, ChartVersion)\n",
    )

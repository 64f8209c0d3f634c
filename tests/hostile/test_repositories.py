"""Broken and hostile repository trees: each costs its own Kustomization (or source) one failed
reconcile with Flux's reason and a message that says what is wrong, quickly and within bounds,
while a healthy neighbour Kustomization on the same source still applies.

Every tree is committed to a simulated Git repository (or pushed as an OCI artifact, or put in a
bucket) and reconciled as in a real run; nothing reaches the network."""

from __future__ import annotations

import io
import os
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gitops_sim.engine import simulation
from gitops_sim.model import archives, refs
from gitops_sim.sources import oci
from gitops_sim.testing import ready
from tests.builders import CONFIGMAP, KS, OCI_URL, OCIREPO, URL, gitrepository, kustomization, repo_with
from tests.sources.conftest import developer_git

OTHER = refs.ObjectRef(KS.group, KS.kind, "flux-system", "other")
SHOWN = "/tmp/kustomization-flux-system-apps"
KZ = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
NEIGHBOUR = (CONFIGMAP % "x").replace("settings", "other")
BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 9) if prev else ', '.join(['x'] * 9)}]\n"
    for prev, name in zip(["", *"abcdefgh"], "abcdefghi", strict=True)
)
"""A billion laughs: nine levels of nine aliases, 9^9 strings once expanded."""


def with_neighbour(sim: simulation.Simulation, files: Mapping[str, str | bytes], **spec: Any) -> None:
    """`files` (under ./apps, for `apps`) and a healthy ./other (for `other`) in one repository."""
    sim.git.create("fleet", URL).commit({**files, "other/cm.yaml": NEIGHBOUR}, "init")
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    apply_kustomizations(sim, **spec)


def apply_kustomizations(sim: simulation.Simulation, **spec: Any) -> None:
    sim.cluster.apply(kustomization(**spec), field_manager="kubectl")
    other = kustomization(path="./other", **{k: v for k, v in spec.items() if k == "sourceRef"})
    other["metadata"]["name"] = "other"
    sim.cluster.apply(other, field_manager="kubectl")


def broken(sim: simulation.Simulation, files: Mapping[str, str | bytes]) -> dict[str, Any]:
    """Reconcile `files` next to a healthy neighbour; the neighbour must apply. Returns the
    Ready condition of the broken one."""
    with_neighbour(sim, files)
    sim.advance(1_000)
    neighbour_applied(sim)
    return ready(sim.cluster.get(KS))


def neighbour_applied(sim: simulation.Simulation) -> None:
    assert ready(sim.cluster.get(OTHER))["status"] == "True"
    assert sim.cluster.get(refs.ObjectRef("", "ConfigMap", "default", "other"))["data"] == {"mode": "x"}


def build_failed(message: str) -> dict[str, str]:
    return {"status": "False", "reason": "BuildFailed", "message": f"kustomize build failed: {message}"}


def test_an_alias_bomb_in_a_plain_manifest_is_build_failed_before_anything_expands(
    sim: simulation.Simulation,
) -> None:
    bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n" + BOMB
    assert broken(sim, {"apps/bomb.yaml": bomb}) == build_failed(
        f"failed to decode Kubernetes YAML from {SHOWN}/apps/bomb.yaml: the document expands to more "
        'than 1,000,000 values (aliases)\n  in "<byte string>", line 9, column 42'
    )


def test_an_alias_bomb_read_by_kustomize_stops_it_at_its_memory_limit(tmp_path: Path) -> None:
    settings = simulation.Settings(workdir=tmp_path, build_memory_bytes=1 << 30)
    sim = simulation.Simulation(settings)
    try:
        bomb = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\n" + BOMB
        files = {"apps/kustomization.yaml": KZ + "resources: [bomb.yaml]\n", "apps/bomb.yaml": bomb}
        assert broken(sim, files) == build_failed(
            "kustomize build ran out of its 1024 MiB memory limit and was stopped"
        )
    finally:
        sim.close()


def test_a_kustomize_build_past_its_wall_time_limit_is_stopped(tmp_path: Path) -> None:
    settings = simulation.Settings(workdir=tmp_path, build_wall_s=0.001)
    sim = simulation.Simulation(settings)
    try:
        files = {"apps/kustomization.yaml": KZ + "resources: [cm.yaml]\n", "apps/cm.yaml": CONFIGMAP % "a"}
        with_neighbour(sim, files)
        sim.advance(1_000)
        assert ready(sim.cluster.get(KS)) == build_failed(
            "kustomize build did not finish within 0.001s and was stopped"
        )
    finally:
        sim.close()


def test_5000_deep_nesting_is_build_failed_when_kustomizes_output_is_read(sim: simulation.Simulation) -> None:
    deep = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n  x: " + "[" * 5000 + "]" * 5000
    files = {"apps/kustomization.yaml": KZ + "resources: [deep.yaml]\n", "apps/deep.yaml": deep}
    assert broken(sim, files) == build_failed(
        "failed to decode kustomize's output: the document nests deeper than 100 levels\n"
        '  in "<byte string>", line 4, column 199'
    )


def test_invalid_utf8_in_a_manifest_is_build_failed_naming_the_byte(sim: simulation.Simulation) -> None:
    bad = b'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: u}\ndata: {a: "\xff\xfe"}\n'
    assert broken(sim, {"apps/cm.yaml": bad}) == build_failed(
        f"failed to decode Kubernetes YAML from {SHOWN}/apps/cm.yaml: unacceptable character #x00ff: "
        'invalid leading UTF-8 octet\n  in "<byte string>", position 62'
    )


def test_a_symlink_out_of_the_repository_is_left_out_of_the_artifact_and_never_read(
    sim: simulation.Simulation, tmp_path: Path
) -> None:
    repo = repo_with(sim, {"apps/kustomization.yaml": KZ + "resources: [link]\n", "other/cm.yaml": NEIGHBOUR})
    work = tmp_path / "work"  # a developer pushes the link (a scenario's commit writes files only)
    developer_git("clone", "-q", sim.git.endpoint(repo.url) or "", str(work), cwd=tmp_path)
    os.symlink("/etc/hostname", work / "apps" / "link")
    developer_git("add", "-A", cwd=work)
    developer_git("commit", "-q", "-m", "add a link", cwd=work)
    developer_git("push", "-q", "origin", "main", cwd=work)
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    apply_kustomizations(sim)
    sim.advance(1_000)
    neighbour_applied(sim)
    assert ready(sim.cluster.get(KS)) == build_failed(
        "accumulating resources: accumulation err='accumulating resources from 'link': "
        f"evalsymlink failure on '{SHOWN}/apps/link' : lstat {SHOWN}/apps/link: no such file or "
        "directory': must build at directory: not a valid directory: evalsymlink failure on "
        f"'{SHOWN}/apps/link' : lstat {SHOWN}/apps/link: no such file or directory"
    )


def test_a_resource_above_the_artifact_root_is_refused_before_kustomize_reads_it(
    sim: simulation.Simulation,
) -> None:
    files = {"apps/kustomization.yaml": KZ + "resources: [../../../etc]\n"}
    assert broken(sim, files) == build_failed(
        "accumulating resources: accumulation err='accumulating resources from '../../../etc': "
        f"security; path '/etc' is not in or below '{SHOWN}'"
    )


def test_a_remote_resource_fails_at_once_without_reaching_the_network(sim: simulation.Simulation) -> None:
    url = "https://github.com/acme/x//base?ref=main"
    files = {"apps/kustomization.yaml": KZ + f"resources:\n- {url}\n"}
    assert broken(sim, files) == build_failed(
        f"accumulating resources: accumulation err='accumulating resources from '{url}': "
        f'Get "{url}": proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused\': '
        "no 'git' program on path: exec: \"git\": executable file not found in $PATH"
    )


def test_helm_charts_in_a_kustomization_are_refused_as_without_enable_helm(
    sim: simulation.Simulation,
) -> None:
    chart = "helmCharts:\n- name: podinfo\n  repo: https://stefanprodan.github.io/podinfo\n  version: 6.0.0\n"
    assert broken(sim, {"apps/kustomization.yaml": KZ + chart}) == build_failed(
        "trouble configuring builtin HelmChartInflationGenerator with config: `\nname: podinfo\n"
        "repo: https://stefanprodan.github.io/podinfo\nversion: 6.0.0\n`: must specify --enable-helm"
    )


def test_an_exec_generator_is_refused_as_external_plugins_are_disabled(sim: simulation.Simulation) -> None:
    generator = (
        "apiVersion: example.com/v1\nkind: Gen\nmetadata:\n  name: g\n  annotations:\n"
        "    config.kubernetes.io/function: |\n      exec:\n        path: ./run.sh\n"
    )
    files = {
        "apps/kustomization.yaml": KZ + "generators: [gen.yaml]\n",
        "apps/gen.yaml": generator,
        "apps/run.sh": "#!/bin/sh\ntouch /tmp/pwned\n",
    }
    assert broken(sim, files) == build_failed(
        "loading generator plugins: failed to load generator: external plugins disabled; "
        "unable to load external plugin 'Gen'"
    )


def test_a_manifest_without_kind_is_build_failed_missing_resource_metadata(
    sim: simulation.Simulation,
) -> None:
    assert broken(sim, {"apps/cm.yaml": "apiVersion: v1\nmetadata: {name: x}\n"}) == build_failed(
        f"failed to decode Kubernetes YAML from {SHOWN}/apps/cm.yaml: missing Resource metadata"
    )


def test_a_kustomization_file_that_is_a_list_is_build_failed_as_kustomize_says(
    sim: simulation.Simulation,
) -> None:
    assert broken(sim, {"apps/kustomization.yaml": "- a\n- b\n"}) == build_failed(
        "invalid Kustomization: json: cannot unmarshal array into Go value of type types.Kustomization"
    )


def test_a_kustomization_file_that_is_a_list_is_build_failed_when_an_overlay_is_merged_into_it(
    sim: simulation.Simulation,
) -> None:
    with_neighbour(sim, {"apps/kustomization.yaml": "- a\n- b\n"}, namePrefix="p-")
    sim.advance(1_000)
    neighbour_applied(sim)
    assert ready(sim.cluster.get(KS)) == build_failed(
        "invalid Kustomization: json: cannot unmarshal array into Go value of type types.Kustomization"
    )


def test_a_binary_file_with_a_yaml_suffix_is_build_failed(sim: simulation.Simulation) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
    assert broken(sim, {"apps/logo.yaml": png}) == build_failed(
        f"failed to decode Kubernetes YAML from {SHOWN}/apps/logo.yaml: unacceptable character #x0089: "
        'invalid leading UTF-8 octet\n  in "<byte string>", position 0'
    )


def test_a_template_with_a_yaml_suffix_is_build_failed_with_the_position(sim: simulation.Simulation) -> None:
    assert broken(sim, {"apps/t.yaml": "{{ .Values.x }}: [\n"}) == build_failed(
        f"failed to decode Kubernetes YAML from {SHOWN}/apps/t.yaml: while parsing a flow node\n"
        'did not find expected node content\n  in "<byte string>", line 2, column 1'
    )


def test_a_manifest_whose_metadata_is_a_string_is_build_failed_as_kustomize_says(
    sim: simulation.Simulation,
) -> None:
    assert broken(
        sim, {"apps/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: hello\n"}
    ) == build_failed(
        "accumulating resources: accumulation err='accumulating resources from 'cm.yaml': missing "
        "metadata.name in object {{v1 ConfigMap} {{ } map[] map[]}}': must build at directory: "
        f"'{SHOWN}/apps/cm.yaml': file is not directory"
    )


# -- artifacts from OCI registries and buckets ------------------------------------------------

ON_OCI = {"kind": "OCIRepository", "name": "manifests"}


def tar_with(*entries: tarfile.TarInfo, files: dict[str, bytes]) -> bytes:
    """A tar.gz holding `files` and the given non-file entries, as a hostile pusher makes it."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for entry in entries:
            tar.addfile(entry)
    return out.getvalue()


def on_oci(sim: simulation.Simulation, layer: bytes, **spec: Any) -> None:
    host, name = sim.registries.host(OCI_URL)
    oci.RegistryClient(sim.registries.route).push_artifact(host, name, "v1", layer)
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "OCIRepository",
            "metadata": {"name": "manifests", "namespace": "flux-system"},
            "spec": {"url": OCI_URL, "interval": "1m", "ref": {"tag": "v1"}, **spec},
        },
        field_manager="kubectl",
    )
    apply_kustomizations(sim, sourceRef=ON_OCI)
    sim.advance(1_000)


def test_an_oci_layer_with_a_dot_dot_entry_is_refused_as_flux_untar_refuses_it(
    sim: simulation.Simulation,
) -> None:
    layer = tar_with(files={"../x": b"escaped", "apps/cm.yaml": (CONFIGMAP % "a").encode()})
    on_oci(sim, layer)
    assert ready(sim.cluster.get(OCIREPO)) == {
        "status": "False",
        "reason": "OCIArtifactLayerOperationFailed",
        "message": 'failed to extract layer contents from artifact: tar contained invalid name error "../x"',
    }
    assert ready(sim.cluster.get(KS))["message"] == "Source artifact not found, retrying in 30s"
    assert not (sim.settings.workdir.parent / "x").exists()


def test_an_oci_layer_with_a_symlink_is_refused_as_flux_untar_refuses_it(sim: simulation.Simulation) -> None:
    link = tarfile.TarInfo("apps/link")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/hostname"
    link.mode = 0o777
    on_oci(sim, tar_with(link, files={"apps/cm.yaml": (CONFIGMAP % "a").encode()}))
    assert ready(sim.cluster.get(OCIREPO)) == {
        "status": "False",
        "reason": "OCIArtifactLayerOperationFailed",
        "message": "failed to extract layer contents from artifact: "
        "tar file entry apps/link contained unsupported file type Lrwxrwxrwx",
    }


def test_a_copied_oci_layer_with_a_dot_dot_entry_is_artifact_failed_in_the_kustomization(
    sim: simulation.Simulation,
) -> None:
    layer = tar_with(files={"../x": b"escaped", "apps/cm.yaml": (CONFIGMAP % "a").encode()})
    on_oci(sim, layer, layerSelector={"mediaType": oci.FLUX_CONTENT_TYPE, "operation": "copy"})
    assert ready(sim.cluster.get(OCIREPO))["status"] == "True"
    assert ready(sim.cluster.get(KS)) == {
        "status": "False",
        "reason": "ArtifactFailed",
        "message": 'failed to extract archive: tar contained invalid name error "../x"',
    }
    assert not (sim.settings.workdir.parent / "x").exists()


BUCKET = refs.ObjectRef("source.toolkit.fluxcd.io", "Bucket", "flux-system", "fleet")
ENDPOINT = "minio.example.com:9000"


def test_a_bucket_key_with_dot_dot_stays_inside_the_artifact(sim: simulation.Simulation) -> None:
    sim.buckets.put(ENDPOINT, "fleet", "apps/../../cm.yaml", (CONFIGMAP % "a").encode())
    sim.buckets.put(ENDPOINT, "fleet", "other/cm.yaml", NEIGHBOUR.encode())
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "Bucket",
            "metadata": {"name": "fleet", "namespace": "flux-system"},
            "spec": {"bucketName": "fleet", "endpoint": ENDPOINT, "insecure": True, "interval": "1m"},
        },
        field_manager="kubectl",
    )
    apply_kustomizations(sim, sourceRef={"kind": "Bucket", "name": "fleet"})
    sim.advance(1_000)
    neighbour_applied(sim)
    artifact = sim.cluster.get(BUCKET)["status"]["artifact"]
    stored = archives.unpack((sim.storage.root / artifact["path"]).read_bytes())
    assert sorted(stored) == ["cm.yaml", "other/cm.yaml"]


def test_a_huge_manifest_is_refused_by_the_api_and_only_its_kustomization_fails(
    sim: simulation.Simulation,
) -> None:
    # 8 MiB, not 50: kubectl's kustomize alone takes about 7s over a 50 MB file on the CI machine
    # (measured), and the work is linear in the size, so 4 MiB shows the same path quickly.
    huge = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge, namespace: default}\ndata:\n  big: "
    assert broken(sim, {"apps/cm.yaml": huge + "x" * (4 << 20) + "\n"}) == {
        "status": "False",
        "reason": "ReconciliationFailed",
        "message": 'ConfigMap/default/huge dry-run failed (Invalid): ConfigMap "huge" is invalid: []: '
        "Too long: must have at most 1048576 bytes\n",
    }


# -- hostile charts (the Helm SDK runs in-process: its inputs are bounded) --------------------

CHART_REPO = "https://charts.example.com/stable"
HELMREPO = refs.ObjectRef("source.toolkit.fluxcd.io", "HelmRepository", "flux-system", "stable")
HELMCHART = refs.ObjectRef("source.toolkit.fluxcd.io", "HelmChart", "flux-system", "app")


def helm_objects(sim: simulation.Simulation, **chart_spec: Any) -> None:
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmRepository",
            "metadata": {"name": "stable", "namespace": "flux-system"},
            "spec": {"url": CHART_REPO, "interval": "1m"},
        },
        field_manager="kubectl",
    )
    sim.cluster.apply(
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "HelmChart",
            "metadata": {"name": "app", "namespace": "flux-system"},
            "spec": {
                "chart": "app",
                "interval": "1m",
                "sourceRef": {"kind": "HelmRepository", "name": "stable"},
                **chart_spec,
            },
        },
        field_manager="kubectl",
    )


def test_a_helm_repository_index_that_is_an_alias_bomb_is_indexation_failed(
    sim: simulation.Simulation,
) -> None:
    sim.charts.publish(
        CHART_REPO, "app", "1.0.0", {"Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n"}
    )
    hosted = sim.charts.get(CHART_REPO)
    assert hosted is not None
    (hosted.folder / "index.yaml").write_text("apiVersion: v1\n" + BOMB)
    helm_objects(sim)
    sim.advance(1_000)
    assert ready(sim.cluster.get(HELMREPO)) == {
        "status": "False",
        "reason": "IndexationFailed",
        "message": "failed to load Helm repository from index YAML: failed to load index: the document "
        'expands to more than 1,000,000 values (aliases)\n  in "<byte string>", line 7, column 42',
    }


def test_a_chart_download_over_the_maximum_chart_size_is_a_chart_pull_error(
    sim: simulation.Simulation,
) -> None:
    sim.charts.publish(
        CHART_REPO, "app", "1.0.0", {"Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n"}
    )
    hosted = sim.charts.get(CHART_REPO)
    assert hosted is not None
    (hosted.folder / "app-1.0.0.tgz").write_bytes(b"\0" * ((10 << 20) + 1))
    helm_objects(sim)
    sim.advance(1_000)
    assert ready(sim.cluster.get(HELMCHART)) == {
        "status": "False",
        "reason": "ChartPullError",
        "message": "chart pull error: failed to download chart for remote reference: size of "
        f"{CHART_REPO}/app-1.0.0.tgz exceeds the maximum size of 10485760 bytes",
    }


def test_a_chart_yaml_alias_bomb_in_git_is_an_invalid_chart_reference(sim: simulation.Simulation) -> None:
    repo = repo_with(sim, {"charts/app/Chart.yaml": "apiVersion: v2\nname: app\nversion: 1.0.0\n" + BOMB})
    sim.cluster.apply(gitrepository(), field_manager="kubectl")
    helm_objects(sim, chart="./charts/app", sourceRef={"kind": "GitRepository", "name": "fleet"})
    sim.advance(1_000)
    assert repo.head() is not None
    assert ready(sim.cluster.get(HELMCHART)) == {
        "status": "False",
        "reason": "InvalidChartReference",
        "message": "invalid chart reference: failed to load chart metadata from './charts/app/Chart.yaml': "
        "the document expands to more than 1,000,000 values (aliases)\n"
        '  in "<byte string>", line 9, column 42',
    }

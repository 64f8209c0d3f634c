"""Write the example's generated files: run it after changing `charts/hello` or the secret.

    python examples/build.py

- `fleet/clusters/*/flux-system/gotk-components.yaml`: what `flux install
  --components-extra=source-watcher` writes (the ArtifactGenerator needs source-watcher);
- `fleet/apps/base/db-credentials.yaml`: the database Secret, SOPS-encrypted (its `data` and
  `stringData` only) for the example cluster's age key;
- `cluster/sops-age.yaml`: that key, as the Secret the cluster holds and Git never does (here
  it is published: the example protects nothing);
- `mirror/`: the offline mirror of the chart the HelmRelease asks for, built from `charts/hello`
  served at `https://charts.example.com/stable` by a throwaway simulation standing in for the
  internet, exactly as `gitops-sim mirror fleet --cache mirror` would build it from the real one.

Everything is deterministic (seeded), so running it again changes nothing; a test checks that.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

from gitops_sim.engine import simulation
from gitops_sim.mirror import cache, discover
from gitops_sim.model import age, flux, fluxinstall, sops

HERE = Path(__file__).resolve().parent
CHART_URL = "https://charts.example.com/stable"
SEED = "gitops-sim example"
SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
type: Opaque
stringData:
  username: hello
  password: correct-horse-battery-staple
"""


def identity() -> age.Identity:
    return age.generate(random.Random(f"{SEED}/age"))


def generated() -> dict[str, bytes]:
    """The example's generated files (all but the mirror), by path under `examples/`."""
    components = fluxinstall.render(fluxinstall.Options(components_extra=("source-watcher",))).encode()
    key = identity()
    encrypted = sops.encrypt(
        SECRET.encode(),
        sops.format_for_path("db-credentials.yaml"),
        [key.recipient],
        rules=sops.Rules(encrypted_regex="^(data|stringData)$"),
        rng=random.Random(f"{SEED}/sops"),
        lastmodified="2025-01-01T00:00:00Z",
    )
    key_secret = (
        "# The example cluster's age key: a Secret the cluster holds and Git never does.\n"
        "# Published here so that the example runs: it protects nothing.\n"
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sops-age\n  namespace: flux-system\n"
        f"stringData:\n  age.agekey: {key}\n"
    )
    return {
        "fleet/clusters/staging/flux-system/gotk-components.yaml": components,
        "fleet/clusters/production/flux-system/gotk-components.yaml": components,
        "fleet/apps/base/db-credentials.yaml": encrypted,
        "cluster/sops-age.yaml": key_secret.encode(),
    }


def build_mirror(target: Path) -> None:
    """The offline mirror of the example's chart, into `target` (emptied first)."""
    if target.exists():
        shutil.rmtree(target)
    with tempfile.TemporaryDirectory(prefix="gitops-sim-example-") as scratch:
        upstream = simulation.Simulation(simulation.Settings(workdir=Path(scratch), with_flux=False))
        try:
            chart = HERE / "charts" / "hello"
            files = {
                p.relative_to(chart).as_posix(): p.read_text()
                for p in sorted(chart.rglob("*"))
                if p.is_file()
            }
            upstream.charts.publish(CHART_URL, "hello", "1.2.0", files)
            fetch = cache.Upstreams.of_simulation(upstream)
            cache.build(discover.discover(HERE / "fleet"), target, fetch, source="examples/fleet")
        finally:
            upstream.close()


def main() -> int:
    for rel, data in generated().items():
        (HERE / rel).parent.mkdir(parents=True, exist_ok=True)
        (HERE / rel).write_bytes(data)
    build_mirror(HERE / "mirror")
    print(f"wrote the example's generated files under {HERE} (Flux {flux.FLUX_VERSION})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Offline mirrors: what a Flux repository fetches from the internet, kept in a folder and served
under the same URLs inside a simulation.

A Flux repository names things a simulation cannot reach offline: Helm charts in HTTP and OCI
Helm repositories, OCI artifacts, and kustomize remote bases in git repositories. Three steps,
one module each:

- `discover`: every such reference a repository folder holds, with its file and line;
- `cache`: `build` fetches them (through the project's own HTTP, OCI and git clients) into a
  content-addressed folder, `index.json` beside `blobs/sha256/…` (`gitops-sim mirror PATH`);
- `serve`: loads that folder into a running simulation, whose chart repositories, registries and
  git server then answer the same URLs with the same bytes (`gitops-sim run --mirror DIR`,
  `gitops-sim up`), and says what it served.

The layer sits between the scenario runner and the engine: it knows a `Simulation` and the
upstreams it hosts, and nothing about scenarios. Nothing here reads the clock; only `cache.build`
reaches the network, and only through the `Upstreams` it is given.
"""

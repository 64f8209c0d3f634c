"""Upstream systems outside the cluster that Flux sources read from: git servers, registries."""

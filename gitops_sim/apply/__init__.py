"""The fluxcd/pkg `ssa` analogue: build manifests, apply them in stages, prune, keep inventory."""

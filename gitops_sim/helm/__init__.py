"""Helm, as helm-controller drives it: release storage, values, rendering, the next-action rules.

A library below the controllers (beside `apply`): the HelmRelease controller and a local
`build helmrelease` command use it. Never imports a controller, the kernel or the engine.
"""

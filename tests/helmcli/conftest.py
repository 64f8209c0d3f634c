"""Fixtures of the helm command tests."""

from tests.fluxcli.conftest import bare

__all__ = ["bare"]

"""Fixtures of the controller tests.

The `sim` fixture (a fresh simulation, seed 0) comes from the gitops_sim pytest plugin. The
builders these tests share (repositories with files, Flux objects, Secrets) are in
tests/builders.py; reading a Ready condition or the events of an object is
`gitops_sim.testing.ready`/`events_of`. This file holds fixtures only.
"""

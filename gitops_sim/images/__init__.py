"""Flux's image controllers as libraries: tag selection, setters, the tag database (issue 16)."""

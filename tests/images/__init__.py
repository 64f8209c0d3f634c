"""Tests of the image libraries."""

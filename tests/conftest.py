"""Shared fixtures: derivations are pure functions of the catalogue, so derive each once per session."""

from __future__ import annotations

import functools

import pytest

from symgrad.models import derive_named


@functools.lru_cache(maxsize=None)
def derivation_of(name: str, **options: str):
    return derive_named(name, **options)


@pytest.fixture
def derived():
    """``derived(name, **options)`` → the (cached) Derivation."""
    return derivation_of

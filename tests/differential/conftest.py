"""Fixtures for the differential tests (helpers live in ``diffutil``)."""

from __future__ import annotations

import numpy as np
import pytest

import ccomp


@pytest.fixture(scope="session")
def compiled():
    """Compile once per (source, target) for the whole session."""
    cache: dict[tuple[str, str], ccomp.api.Program] = {}

    def get(src: str, target: str):
        key = (src, target)
        if key not in cache:
            cache[key] = ccomp.compile(src, target=target)
        return cache[key]

    return get


@pytest.fixture
def rng():
    return np.random.default_rng(1234)

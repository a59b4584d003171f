"""Fixtures shared by the whole suite."""
from __future__ import annotations

import pytest

from np_model.engine import ENGINES


@pytest.fixture(params=ENGINES, ids=[f"{e}engine" for e in ENGINES])
def engine(request) -> str:
    """Every behavioural test runs on each engine (compiled and reference)."""
    return request.param

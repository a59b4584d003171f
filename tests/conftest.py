"""Fixtures shared by the whole suite."""
from __future__ import annotations

import os

import pytest

from np_model.engine import ENGINES

# Behavioural tests run on the default (compiled) engine; the equivalence suite
# (tests/np_model/engine/test_engine_equivalence.py) checks that the Python
# reference engine produces the same simulation event for event.
# VROUTER_HIL_ENGINES=all runs the behavioural tests on every engine too.
_ENGINES = ENGINES if os.environ.get("VROUTER_HIL_ENGINES") == "all" else ("c",)


@pytest.fixture(params=_ENGINES, ids=[f"{e}engine" for e in _ENGINES])
def engine(request) -> str:
    """The engine a behavioural test runs on."""
    return request.param

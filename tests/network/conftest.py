"""Shared fixtures for the network substrate's tests."""
from __future__ import annotations

import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples", "net")


@pytest.fixture
def chain3() -> str:
    return os.path.join(EXAMPLES, "chain3.yaml")


@pytest.fixture
def vlans() -> str:
    return os.path.join(EXAMPLES, "vlans.yaml")

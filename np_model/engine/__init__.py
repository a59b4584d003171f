"""Engines that execute the microcode in simulated time.

- ``c``: the compiled engine (np_model/core/engine.c) -- fast;
- ``py``: the pure-Python reference engine (pyengine.py) -- the same
  semantics, event for event, written to be read and to check the other.

``fabric.Fabric`` runs several compiled machines joined by links one
synchronisation window per call (network.sim uses it).
"""
from __future__ import annotations

from .machine import Machine

__all__ = ["make_engine", "ENGINES"]

ENGINES = ("c", "py")


def make_engine(name: str, machine: Machine):
    """Return the engine called ``name`` driving ``machine``."""
    if name == "c":
        from .cengine import CEngine
        return CEngine(machine)
    if name == "py":
        from .pyengine import PyEngine
        return PyEngine(machine)
    raise ValueError(f"unknown engine {name!r}; valid: {', '.join(ENGINES)}")

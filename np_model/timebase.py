"""Simulated time: nanoseconds to ME cycles, one rule for the whole model."""
from __future__ import annotations

import math

import numpy as np

__all__ = ["ns_to_cycles"]


def ns_to_cycles(ns, f_hz: int):
    """Round up, so a run to x ns ends at or just after x and frames offered at
    x are not in the past; the small allowance absorbs float noise in values
    that are exact cycle counts. Works on scalars and numpy arrays (a Python
    float or int takes the same float64 arithmetic without numpy: it is the
    per-call cost of every run)."""
    if type(ns) is float or type(ns) is int:
        return max(math.ceil(float(ns) * f_hz / 1e9 - 1e-6), 0)
    c = np.maximum(np.ceil(np.asarray(ns, dtype=np.float64) * f_hz / 1e9 - 1e-6), 0)
    return int(c) if c.ndim == 0 else c.astype(np.uint64)

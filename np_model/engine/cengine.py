"""CEngine: drives a machine with the compiled event loop (np_run)."""
from __future__ import annotations

from ..core import CoreError, ffi, lib
from .machine import Machine

__all__ = ["CEngine", "RUN_TIME", "RUN_HOST", "RUN_IDLE", "RUN_FULL", "RUN_RBUF", "FOREVER"]

RUN_TIME = lib.NP_RUN_TIME      # reached the requested cycle
RUN_HOST = lib.NP_RUN_HOST      # stopped: a packet reached the host
RUN_IDLE = lib.NP_RUN_IDLE      # nothing left to simulate
RUN_FULL = lib.NP_RUN_FULL      # stopped: output buffers need draining
RUN_RBUF = lib.NP_RUN_RBUF      # stopped: RBUF elements were released (stop_on_rbuf)
FOREVER = (1 << 64) - 1


class CEngine:
    """The fast engine: the whole event loop runs in C, per call of ``run``."""

    name = "c"

    def __init__(self, machine: Machine):
        self.m = machine

    def run(self, until: int, stop_on_host: bool = False, idle_stay: bool = False,
            stop_on_rbuf: bool = False) -> int:
        """Simulate up to cycle ``until``. ``stop_on_host``: return as soon as a
        packet reaches the host. ``idle_stay``: if nothing is left to do, stop
        at the last event instead of letting time pass to ``until``.
        ``stop_on_rbuf``: return after an event that released RBUF elements."""
        flags = ((lib.NP_STOP_HOST if stop_on_host else 0) | (lib.NP_IDLE_STAY if idle_stay else 0)
                 | (lib.NP_STOP_RBUF if stop_on_rbuf else 0))
        rc = lib.np_run(self.m.ptr, min(until, FOREVER), flags)
        if rc < 0:
            raise CoreError(ffi.string(lib.np_error(self.m.ptr)).decode())
        return rc

    @property
    def wall_s(self) -> float:
        """Wall-clock seconds spent simulating (inside np_run, by whatever called it)."""
        return lib.np_run_wall_ns(self.m.ptr) / 1e9

    @property
    def now(self) -> int:
        return lib.np_now(self.m.ptr)

    @property
    def events(self) -> int:
        return lib.np_events(self.m.ptr)

    def line_trace(self) -> str:
        buf = ffi.new("char[]", 4096)
        n = lib.np_line_trace(self.m.ptr, buf, 4096)
        return ffi.string(buf, n).decode()

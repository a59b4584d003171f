"""A router node: the configured NPR (host.router.build_router: the NP
model, its slow path and control plane) behind the message interface,
driven as every NP assembly node is (network.machine_node: on its own, or
in the network's compiled fabric, with identical results).

Its own work (``busy_s``, network.sim) is ``NPR.sim_wall_s``: the engine's
event loop and the slow path's handlers and timers.
"""
from __future__ import annotations

from typing import Any

from host.router import Router

from .ledger import Ledger
from .machine_node import MachineNode

__all__ = ["RouterNode"]


class RouterNode(MachineNode):
    """An NPR with its slow path and control plane as a network node."""

    kind = "router"

    def __init__(self, name: str, router: Router):
        super().__init__(name, router.npr)
        self.router = router
        self.npr = router.npr

    def settle(self) -> Ledger:
        # Finish the current instant: a slow-path timer that fired at the window bound
        # may have queued an injection the engine takes at the next run; the NPR's
        # account counts it in flight but not yet injected until then.
        self.npr.run(until_ns=self.now)
        c = self.npr.conservation()
        led = self.ledger
        sp = self.router.slow_path.counters.as_dict()
        qfull = int(sp.get("slowpath.queue_full_drops", 0))
        led.created = c.injected + c.copies + c.created
        led.delivered = type(led.delivered)({"control_processor": c.to_host - qfull} if c.to_host - qfull else {})
        keep = {r: n for r, n in led.dropped.items() if r in ("node_down", "port_unconnected")}
        led.dropped = type(led.dropped)(keep)
        for r, n in self.npr.drops().items():
            led.dropped[f"npr.{r}"] += n
        if qfull:
            led.dropped["slowpath_queue_full"] += qfull
        # Held: packets inside the NPR by its counters (its scan of buffers, c.in_flight, counts a
        # frame twice while Rx moves it from RBUF to its buffer, so it is exact only at rest; see
        # npr_account), frames offered but not yet received by its MSF, and this window's arrivals.
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        led.held = inside + (self.fed - c.arrived) + len(self._in_frames)
        return led

    def stats(self) -> dict[str, Any]:
        st = self.router.stats()
        st["kind"] = self.kind
        st["ledger"] = self.settle().as_dict()
        st["npr_account"] = self.npr_account()
        return st

    def npr_account(self) -> dict[str, Any]:
        """The NPR's own conservation check (host.router / np_model): its scan of
        buffers against its counters. ``at_rest``: nothing inside, where the scan is
        exact; in flight, a frame moving from RBUF to its buffer is scanned twice."""
        c = self.npr.conservation()
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        return {"ok": c.ok, "at_rest": inside == 0, "scanned_in_flight": c.in_flight, "counted_in_flight": inside,
                "double_ends": c.double_ends, "account": str(c)}

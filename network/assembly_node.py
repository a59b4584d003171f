"""Any NP assembly (np_model.assemblies.base.Assembly: an SPP line card,
an NPE, ...) behind the network's message interface, driven as network.router
drives an NPR (network.machine_node: on its own, or in the network's compiled
fabric, with identical results). Packets its control processor takes
(``host_handler``) are counted as delivered (``control_processor``); its
ledger follows the assembly's own conservation account. Its own work
(``busy_s``) is ``Assembly.sim_wall_s``: the engine's event loop and the host
handler's and timers' callbacks.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from .ledger import Ledger
from .machine_node import MachineNode

__all__ = ["AssemblyNode"]


class AssemblyNode(MachineNode):
    """An Assembly as a network node (see module doc)."""

    kind = "assembly"

    def __init__(self, name: str, asm: Any, *, kind: str | None = None):
        super().__init__(name, asm)
        if kind:
            self.kind = kind
        if asm.host_handler is None:
            asm.host_handler = self._host
        self.host_packets: Counter = Counter()

    def _host(self, asm: Any, hp: Any) -> None:
        self.host_packets[hp.reason] += 1

    def settle(self) -> Ledger:
        self.asm.run(until_ns=self.now)
        c = self.asm.conservation()
        led = self.ledger
        led.created = c.injected + c.copies + c.created
        led.delivered = Counter({"control_processor": c.to_host} if c.to_host else {})
        keep = {r: n for r, n in led.dropped.items() if r in ("node_down", "port_unconnected")}
        led.dropped = Counter(keep)
        for r, n in self.asm.drops().items():
            if n:
                led.dropped[r] += n
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        led.held = inside + (self.fed - c.arrived) + len(self._in_frames)
        return led

    def account(self) -> dict[str, Any]:
        """The assembly's own conservation check (exact at rest, see network.router)."""
        c = self.asm.conservation()
        inside = c.arrived + c.injected + c.copies + c.created - c.transmitted - c.to_host - c.dropped
        return {"ok": c.ok, "at_rest": inside == 0, "double_ends": c.double_ends, "account": str(c)}

    def stats(self) -> dict[str, Any]:
        st = self.asm.stats()
        st["kind"] = self.kind
        st["ledger"] = self.settle().as_dict()
        st["account"] = self.account()
        if self.host_packets:
            st["host_packets"] = dict(self.host_packets)
        return st

"""An Ethernet switch: a learning bridge with IEEE 802.1Q VLANs.

Ports are ``access`` (one VLAN, untagged frames only; the VLAN is the port's
PVID) or ``trunk`` (a set of VLANs carried tagged; an optional native VLAN,
the PVID, carried untagged). Per 802.1Q:

* ingress (8.6.1/8.6.2): an untagged or priority-tagged frame gets the
  port's PVID (none on a trunk without a native VLAN: ``untagged_on_trunk``);
  a tagged frame on an access port is refused (``tagged_on_access``, the
  port admits only untagged frames); a VID the port is not a member of is
  filtered (``vlan_not_member``); VID 4095 is reserved (``vid_reserved``);
* learning (8.7): the source MAC of a frame is learned per VLAN
  (independent VLAN learning: one MAC table per VLAN) with its port and
  time; entries age out after ``ageing_s`` (802.1D default 300 s);
* forwarding (8.6.3-8.6.6): a known unicast destination goes to its port
  (``same_port`` if that is where it came from); broadcast, multicast and
  unknown unicast are flooded to every other member port of the VLAN
  (none left: ``no_other_member``);
* egress (8.6.6/8.1): untagged on access ports and for a trunk's native
  VLAN, tagged otherwise.

Cost model (a model, not a measured device): every frame is handled
store-and-forward -- its forwarding decision is made when its last bit has
arrived -- and leaves ``latency_ns`` later (a fixed, pipelined per-frame
processing latency: no limit on frames per second) into the output port's
FIFO, which holds ``queue`` frames (then ``egress_queue_full``) and
serialises at the link's rate. A flood makes one copy per extra output
port (counted as created). When the switch goes down it loses its MAC
tables. ``static``: static filtering entries (802.1Q 8.8.1), MAC -> port in
every VLAN, consulted before the learned tables and never aged or flushed
(an SPP's fabric switch knows its boards).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .ledger import Ledger
from .node import EventNode
from .wire import mac_str

__all__ = ["Switch", "SwitchPort"]


@dataclass
class SwitchPort:
    """One port: ``mode`` access or trunk; ``vlans`` its member VLANs;
    ``pvid`` the VLAN of untagged frames (None: untagged refused)."""

    mode: str = "access"
    vlans: frozenset[int] = field(default_factory=lambda: frozenset({1}))
    pvid: int | None = 1

    def __post_init__(self) -> None:
        if self.mode not in ("access", "trunk"):
            raise ValueError(f"port mode {self.mode!r}; valid: access, trunk")
        for v in set(self.vlans) | ({self.pvid} if self.pvid is not None else set()):
            if not 1 <= v <= 4094:
                raise ValueError(f"VLAN id {v} outside 1..4094")
        if self.mode == "access" and (len(self.vlans) != 1 or self.pvid not in self.vlans):
            raise ValueError("an access port is a member of exactly its one VLAN, its PVID")
        if self.pvid is not None and self.pvid not in self.vlans:
            self.vlans = frozenset(self.vlans) | {self.pvid}

    def untagged(self, vid: int) -> bool:
        return self.mode == "access" or vid == self.pvid


class Switch(EventNode):
    """A VLAN-aware learning switch (see module doc)."""

    kind = "switch"

    def __init__(self, name: str, ports: list[SwitchPort], *, latency_ns: float = 1000.0, ageing_s: float = 300.0,
                 queue: int = 1000, static: dict[bytes, int] | None = None):
        super().__init__(name, len(ports), tx_queue=queue)
        self.static = dict(static or {})
        for mac, p in self.static.items():
            if not 0 <= p < len(ports):
                raise ValueError(f"static entry {mac_str(mac)}: no port {p} (0..{len(ports) - 1})")
        self.ports = ports
        self.latency_ns = float(latency_ns)
        self.ageing_ns = float(ageing_s) * 1e9
        self.tables: dict[int, dict[bytes, tuple[int, float]]] = {}
        self.members: dict[int, list[int]] = {}
        for i, p in enumerate(ports):
            for v in p.vlans:
                self.members.setdefault(v, []).append(i)
        self.counters: Counter = Counter()

    def on_down_change(self, t_ns: float, down: bool) -> None:
        if down:
            self.schedule(t_ns, self._flush)

    def _flush(self) -> None:
        self.tables.clear()
        self.counters["table_flushes"] += 1

    def receive(self, port: int, f: bytes) -> None:
        p = self.ports[port]
        led = self.ledger
        tagged = f[12] == 0x81 and f[13] == 0x00
        if tagged:
            vid = (f[14] << 8 | f[15]) & 0x0FFF
            if vid == 0:                                  # priority-tagged: the PVID applies
                tagged, vid = False, p.pvid
                f = f[:12] + f[16:]
                if vid is None:
                    led.drop("untagged_on_trunk")
                    return
            elif p.mode == "access":
                led.drop("tagged_on_access")
                return
            elif vid == 4095:
                led.drop("vid_reserved")
                return
            elif vid not in p.vlans:
                led.drop("vlan_not_member")
                return
            inner = f[:12] + f[16:]
        else:
            vid = p.pvid
            if vid is None:
                led.drop("untagged_on_trunk")
                return
            inner = f
        src, dst = inner[6:12], inner[:6]
        now = self.now
        table = self.tables.get(vid)
        if table is None:
            table = self.tables[vid] = {}
        if not src[0] & 1:
            table[src] = (port, now)
        if dst[0] & 1:
            outs = [q for q in self.members[vid] if q != port]
            self.counters["flooded"] += 1
        elif dst in self.static:
            q = self.static[dst]
            if q == port:
                led.drop("same_port")
                return
            if vid not in self.ports[q].vlans:
                led.drop("vlan_not_member")
                return
            outs = [q]
            self.counters["forwarded_static"] += 1
        else:
            e = table.get(dst)
            if e is not None and now - e[1] >= self.ageing_ns:
                del table[dst]
                self.counters["aged_out"] += 1
                e = None
            if e is None:
                outs = [q for q in self.members[vid] if q != port]
                self.counters["flooded_unknown"] += 1
            elif e[0] == port:
                led.drop("same_port")
                return
            else:
                outs = [e[0]]
                self.counters["forwarded"] += 1
        if not outs:
            led.drop("no_other_member")
            return
        led.created += len(outs) - 1                      # flood copies
        t = now + self.latency_ns
        for q in outs:
            out = inner if self.ports[q].untagged(vid) else (
                inner[:12] + b"\x81\x00" + vid.to_bytes(2, "big") + inner[12:])
            if self.latency_ns:
                self.schedule(t, self.transmit, q, out)
            else:
                self.transmit(q, out)

    def settle(self) -> Ledger:
        super().settle()
        # frames between their forwarding decision and their output queue
        self.ledger.held += sum(1 for ev in self._heap if ev[1] == 1 and ev[4] == self.transmit)
        return self.ledger

    def mac_table(self) -> dict[int, dict[str, int]]:
        """Learned, not aged-out entries: VLAN -> MAC -> port."""
        now = self.now
        return {v: {mac_str(m): p for m, (p, t) in sorted(tab.items()) if now - t < self.ageing_ns}
                for v, tab in sorted(self.tables.items())}

    def stats(self) -> dict[str, Any]:
        return {"kind": self.kind, "ports": [{"mode": p.mode, "vlans": sorted(p.vlans), "pvid": p.pvid}
                                             for p in self.ports],
                "mac_table": {str(v): t for v, t in self.mac_table().items()},
                "counters": dict(sorted(self.counters.items())), "ledger": self.settle().as_dict()}

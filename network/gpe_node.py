"""A GPE board on the network substrate: one port to the SPP's fabric
switch, the GPE server model (host.spp.gpe) inside.

The node decodes each internal frame it receives into a packet for a
slice's slow path (``decode``, given by the SPP node: which slice, what kind
-- a tunnel packet, an exception or local delivery from the fast path --
and the IPv4 datagram), offers it to that slice's slow path, and encodes
what slow paths send (``encode``: toward the line card or the slice's fast
path) as internal frames on its port. Frames that cannot be decoded or
name no hosted slice are dropped with the decoder's reason.
"""
from __future__ import annotations

import ipaddress
from typing import Any, Callable

from host.spp.gpe import GPEServer, SlowPacket

from .ledger import Ledger
from .node import EventNode

__all__ = ["GPENode"]

#: decode(frame) -> (slice, kind, reason, mi, ip datagram) or a drop reason (str)
Decoder = Callable[[bytes], "tuple[str, str, str, int | None, bytes] | str"]
#: encode(slice, where, ip datagram) -> frame
Encoder = Callable[[str, str, bytes], bytes]


class GPENode(EventNode):
    """A GPE as a network node (see module doc)."""

    kind = "gpe"

    def __init__(self, name: str, *, cores: float, decode: Decoder, encode: Encoder,
                 endpoint_owner: Callable[[tuple[str, int]], str | None], cost_us: float | None = None,
                 per_byte_ns: float | None = None, tx_queue: int = 4096):
        super().__init__(name, 1, tx_queue=tx_queue)
        kw: dict[str, Any] = {}
        if cost_us is not None:
            kw["cost_us"] = cost_us
        if per_byte_ns is not None:
            kw["per_byte_ns"] = per_byte_ns
        self.server = GPEServer(name, cores=cores, schedule=self.schedule, now=lambda: self.now, emit=self._emit,
                                endpoint_owner=endpoint_owner, **kw)
        self.decode, self.encode = decode, encode

    def receive(self, port: int, frame: bytes) -> None:
        d = self.decode(frame)
        if isinstance(d, str):
            self.ledger.drop(d)
            return
        slice_, kind, reason, mi, ip = d
        ihl = (ip[0] & 15) * 4
        src = (str(ipaddress.IPv4Address(ip[12:16])), ip[ihl] << 8 | ip[ihl + 1])
        dst = (str(ipaddress.IPv4Address(ip[16:20])), ip[ihl + 2] << 8 | ip[ihl + 3])
        tot = ip[2] << 8 | ip[3]
        pkt = SlowPacket(ip, src, dst, ip[ihl + 8:tot], kind, reason, mi, self.now)
        why = self.server.offer(slice_, pkt)
        if why is not None:
            self.ledger.drop(why)

    def _emit(self, slice_: str, where: str, ip: bytes) -> None:
        self.ledger.created += 1
        self.transmit(0, self.encode(slice_, where, ip))

    def settle(self) -> Ledger:
        super().settle()
        srv = self.server
        led = self.ledger
        led.held += srv.held()
        for h in srv.slices.values():
            led.delivered[f"slowpath.{h.name}"] = h.counters["consumed"]
            f = h.counters["dropped.slowpath_fault"]
            if f:
                led.dropped[f"slowpath_fault.{h.name}"] = f
        return led

    def stats(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.server.stats(), "ledger": self.settle().as_dict()}

"""ARP (RFC 826) on the control processor: answer, learn, resolve, hold, age.

The NPR's XScale resolves next hops itself [C-code nprd_arp.cc]: up to
three requests five seconds apart (both configurable), each a 28-byte ARP
body sent through Mux with PassThrough = 1 to queue 0x1fff of the port.
While a next hop is unresolved the packets that need it are held, bounded
per next hop and in total; once the reply arrives the entry goes into the
core's ARP table and the held packets are released, transit packets
through classification (so the fast path decrements TTL and writes the
header) and packets the host built itself pass-through. When every
request goes unanswered the held packets are dropped and each transit
packet's source gets an ICMP host unreachable.

Learning follows RFC 826's merge rule: a sender already in the table is
refreshed by any ARP packet; a new sender is learnt only from a packet
addressed to the router's address on that port, and only when it is on
that port's subnet. Dynamic entries age out ``max_age`` after their last
refresh; static entries (configuration, control plane) never do and ARP
packets do not change them. Requests are answered only for the receiving
port's own address (no proxy ARP).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .packet import BROADCAST_MAC, ETH_ARP, ETH_IPV4, IPv4, arp_packet, ether, ip_str, parse_arp

if TYPE_CHECKING:
    from np_model.assemblies.npr import HostPacket

    from .slowpath import SlowPath

__all__ = ["ArpEntry", "Held", "ArpResolver"]


@dataclass
class ArpEntry:
    ip: bytes
    mac: bytes
    port: int
    static: bool
    updated_ns: float


@dataclass
class Held:
    """A packet waiting for a next hop's MAC.

    ``transit``: ``data`` is the frame as received, released through
    classification. Otherwise ``data`` is an IPv4 datagram the host built
    (ICMP, software-forwarded), released pass-through to ``qid``.
    ``orig`` is what an ICMP host unreachable would quote (None: send none).
    """

    transit: bool
    data: bytes
    in_port: int = -1
    ptag: int = 0
    qid: int = 0
    orig: IPv4 | None = None
    l2_dst: bytes = b""


@dataclass
class _Pending:
    ip: bytes
    port: int
    tries: int = 0
    held: deque = field(default_factory=deque)


class ArpResolver:
    """The ARP cache and the resolutions in progress of one router."""

    def __init__(self, sp: "SlowPath"):
        self.sp = sp
        self.entries: dict[bytes, ArpEntry] = {}
        self.pending: dict[bytes, _Pending] = {}
        self.n_held = 0

    # ------------------------------------------------------------------ table
    def lookup(self, ip: bytes) -> bytes | None:
        e = self.entries.get(ip)
        return e.mac if e else None

    def set_entry(self, ip: bytes, mac: bytes, port: int, *, static: bool) -> None:
        """Install (or refresh) an entry in the host cache and the core's table."""
        sp = self.sp
        old = self.entries.get(ip)
        if old is not None and old.static and not static:
            return
        if old is None or old.mac != mac:
            sp.r.set_arp(ip_str(ip), _mac(mac))
        self.entries[ip] = ArpEntry(ip, mac, port, static, sp.r.now_ns)
        if not static and (old is None or old.static):
            self._schedule_ageing(ip, sp.r.now_ns + sp.cfg.arp_max_age_ns)
        p = self.pending.pop(ip, None)
        if p is not None:
            sp.counters.add("arp.resolved")
            self._release(p, mac)

    def delete(self, ip: bytes) -> bool:
        if self.entries.pop(ip, None) is None:
            return False
        self.sp.r.del_arp(ip_str(ip))
        return True

    def _schedule_ageing(self, ip: bytes, t_ns: float) -> None:
        self.sp.r.call_at(t_ns, lambda: self._age(ip))

    def _age(self, ip: bytes) -> None:
        e = self.entries.get(ip)
        if e is None or e.static:
            return
        due = e.updated_ns + self.sp.cfg.arp_max_age_ns
        if due <= self.sp.r.now_ns:
            self.delete(ip)
            self.sp.counters.add("arp.aged_out")
        else:
            self._schedule_ageing(ip, due)

    # ------------------------------------------------------------------ resolution
    def need(self, nh: bytes, port: int, held: Held) -> None:
        """A packet needs ``nh``'s MAC on ``port``: send it, or hold it and resolve."""
        sp, c = self.sp, self.sp.counters
        mac = self.lookup(nh)
        if mac is not None:                       # resolved while the packet was on its way
            self._release_one(held, port, mac)
            return
        p = self.pending.get(nh)
        if p is None:
            p = self.pending[nh] = _Pending(nh, port)
            self._request(p)
        if len(p.held) >= sp.cfg.arp_hold_per_nh or self.n_held >= sp.cfg.arp_hold_total:
            c.add("arp.hold_overflow_drops")
            return
        p.held.append(held)
        self.n_held += 1
        c.add("arp.held")
        c.max("arp.held_hwm", self.n_held)

    def _request(self, p: _Pending) -> None:
        sp = self.sp
        itf = sp.ifaces[p.port]
        sp.send_frame(p.port, ether(BROADCAST_MAC, itf.mac, ETH_ARP,
                                    arp_packet(1, itf.mac, itf.ip, b"\0" * 6, p.ip)))
        p.tries += 1
        sp.counters.add("arp.requests_sent")
        sp.r.call_after(sp.cfg.arp_retry_interval_ns, lambda: self._retry(p))

    def _retry(self, p: _Pending) -> None:
        if self.pending.get(p.ip) is not p:       # resolved (or given up and restarted)
            return
        if p.tries < self.sp.cfg.arp_retries:
            self._request(p)
            return
        del self.pending[p.ip]
        c = self.sp.counters
        c.add("arp.failed")
        self.n_held -= len(p.held)
        for h in p.held:
            c.add("arp.timeout_drops")
            if h.orig is not None:
                self.sp.icmp_error(h.orig, h.in_port, 3, 1, l2_dst=h.l2_dst)

    def _release(self, p: _Pending, mac: bytes) -> None:
        self.n_held -= len(p.held)
        for h in p.held:
            self._release_one(h, p.port, mac)

    def _release_one(self, h: Held, port: int, mac: bytes) -> None:
        sp = self.sp
        sp.counters.add("arp.released")
        if h.transit:
            sp.r.inject(h.data, passthru=False, keep_l2=False, in_port=h.in_port, ptag=h.ptag)
        else:
            sp.send_frame(port, ether(mac, sp.ifaces[port].mac, ETH_IPV4, h.data), qid=h.qid)

    # ------------------------------------------------------------------ input
    def input(self, hp: "HostPacket") -> None:
        """An ARP packet received on ``hp.in_port``."""
        sp, c = self.sp, self.sp.counters
        a = parse_arp(hp.data)
        if a is None or a.op not in (1, 2):
            c.add("arp.malformed")
            return
        c.add("arp.requests_received" if a.op == 1 else "arp.replies_received")
        itf = sp.ifaces[hp.in_port]
        if a.spa in sp.router_addrs or a.sha[0] & 1:
            c.add("arp.ignored")                  # someone claims our address, or a group MAC
            return
        on_subnet = itf.contains(a.spa)
        for_us = a.tpa == itf.ip
        known = a.spa in self.entries
        if on_subnet and (known or for_us or a.spa in self.pending):
            if not (known and self.entries[a.spa].static):
                if not known:
                    c.add("arp.learned")
                self.set_entry(a.spa, a.sha, hp.in_port, static=False)
        elif for_us:
            c.add("arp.off_subnet")
        if for_us and a.op == 1:
            sp.send_frame(hp.in_port, ether(a.sha, itf.mac, ETH_ARP, arp_packet(2, itf.mac, itf.ip, a.sha, a.spa)))
            c.add("arp.replies_sent")
        elif not for_us and not known:
            c.add("arp.ignored")


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)

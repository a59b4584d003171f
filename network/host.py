"""End hosts: one Ethernet interface and a small IPv4 stack.

What the stack does (and no more):

* ARP (RFC 826): answers requests for its address, learns the sender of
  requests for it and of replies, resolves next hops with ``arp_retries``
  broadcast requests ``arp_retry_ms`` apart while holding up to
  ``arp_hold`` datagrams (then ``arp_failed``); entries live
  ``arp_max_age_s``.
* IPv4 (RFC 791/1122): checks version, header checksum and length; accepts
  datagrams for its address or a broadcast; no forwarding, no reassembly
  (fragments are dropped, ``ip_fragment``); sends with DF set and IP ID 0
  (RFC 6864 atomic datagrams); routes on-link or to its ``gateway``.
* ICMP (RFC 792): answers echo requests (not to broadcasts, RFC 1122
  3.2.2.6), hands echo replies and errors (time exceeded, unreachable) to
  the tool that sent the quoted datagram.
* UDP (RFC 768): sockets by port; a datagram for a port nobody holds is
  answered with ICMP port unreachable (RFC 1122 3.2.2.1). Checksum 0 (not
  computed, allowed for IPv4).

Processing takes no simulated time unless ``stack_ns`` is given: each
datagram the host answers leaves ``stack_ns`` after the request arrived.
Frames are untagged; a frame not for the host's MAC (or broadcast) is
dropped (``l2_not_for_host``), as a NIC filters it.
"""
from __future__ import annotations

import ipaddress
import struct
from collections import Counter
from typing import Any, Callable

from .ledger import Ledger
from .node import EventNode
from .wire import BROADCAST, ETH_IPV4, checksum, ip_bytes, ipv4_header, mac_bytes, mac_str

__all__ = ["Host"]

_ETH_IP = b"\x08\x00"
_ETH_ARP = b"\x08\x06"
_ARP_HDR = struct.pack("!HHBB", 1, ETH_IPV4, 6, 4)

UdpHandler = Callable[[bytes, int, bytes, float], None]       # (src ip, sport, data, arrival ns)
IcmpHandler = Callable[[bytes, int, int, bytes, float], None]  # (src ip, type, code, icmp bytes, ns)


class Host(EventNode):
    """An end host (see module doc).

    Args:
        address: interface address with prefix, e.g. ``"10.0.1.2/24"``.
        mac: the interface MAC.
        gateway: default router (on the subnet) or None.
        stack_ns: processing time before an answer leaves.
        tx_queue: frames that may wait for the wire.
    """

    kind = "host"

    def __init__(self, name: str, address: str, mac: str, gateway: str | None = None, *, stack_ns: float = 0.0,
                 arp_retries: int = 3, arp_retry_ms: float = 1000.0, arp_max_age_s: float = 60.0,
                 arp_hold: int = 256, ttl: int = 64, tx_queue: int = 1000):
        super().__init__(name, 1, tx_queue=tx_queue)
        self.itf = ipaddress.IPv4Interface(address)
        self.ip = self.itf.ip.packed
        self.net = self.itf.network
        self._net_int, self._mask = int(self.net.network_address), int(self.net.netmask)
        self.bcast = self.net.broadcast_address.packed
        self.mac = mac_bytes(mac)
        self.gateway = ip_bytes(gateway) if gateway else None
        self.stack_ns = float(stack_ns)
        self.arp_retries, self.arp_retry_ns = int(arp_retries), float(arp_retry_ms) * 1e6
        self.arp_max_age_ns, self.arp_hold = float(arp_max_age_s) * 1e9, int(arp_hold)
        self.ttl = ttl
        self.arp: dict[bytes, tuple[bytes, float]] = {}
        self._pending: dict[bytes, list[bytes]] = {}
        self.udp: dict[int, UdpHandler] = {}
        self.echo_handlers: dict[int, IcmpHandler] = {}
        self.error_handlers: dict[tuple[int, int], IcmpHandler] = {}
        self.counters: Counter = Counter()
        self._next_ident = 0
        self._next_port = 49152

    # ------------------------------------------------------------------ API for tools
    def new_ident(self) -> int:
        """An ICMP echo identifier unique on this host."""
        self._next_ident += 1
        return self._next_ident

    def ephemeral_port(self) -> int:
        self._next_port += 1
        return self._next_port

    def bind_udp(self, port: int, fn: UdpHandler) -> None:
        if port in self.udp:
            raise ValueError(f"{self.name}: UDP port {port} is already bound")
        self.udp[port] = fn

    def send_ip(self, dst: bytes, proto: int, payload: bytes, *, ttl: int | None = None, tos: int = 0,
                header: bytes | None = None) -> None:
        """Build and send one datagram now (``header``: a prepared 20-byte header)."""
        self.ledger.created += 1
        ip = (header or ipv4_header(self.ip, dst, proto, len(payload), ttl=self.ttl if ttl is None else ttl,
                                    tos=tos)) + payload
        self._route(dst, ip)

    def send_udp(self, dst: bytes, sport: int, dport: int, data: bytes, *, ttl: int | None = None) -> None:
        self.send_ip(dst, 17, struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data, ttl=ttl)

    def send_frame(self, frame: bytes) -> None:
        """Send a whole Ethernet frame as is (pcap replay)."""
        self.ledger.created += 1
        self.transmit(0, frame)

    # ------------------------------------------------------------------ output path
    def _next_hop(self, dst: bytes) -> bytes | None:
        d = int.from_bytes(dst, "big")
        if d & self._mask == self._net_int or dst == b"\xff\xff\xff\xff":
            return dst
        return self.gateway

    def _route(self, dst: bytes, ip: bytes) -> None:
        nh = self._next_hop(dst)
        if nh is None:
            self.ledger.drop("no_route")
            return
        if nh == self.bcast or nh == b"\xff\xff\xff\xff":
            self.transmit(0, BROADCAST + self.mac + _ETH_IP + ip)
            return
        e = self.arp.get(nh)
        if e is not None and self.now - e[1] < self.arp_max_age_ns:
            self.transmit(0, e[0] + self.mac + _ETH_IP + ip)
            return
        held = self._pending.get(nh)
        if held is None:
            self._pending[nh] = [ip]
            self._arp_request(nh, 1)
        elif len(held) >= self.arp_hold:
            self.ledger.drop("arp_hold_full")
        else:
            held.append(ip)

    def _arp_request(self, nh: bytes, attempt: int) -> None:
        if nh not in self._pending:
            return
        if attempt > self.arp_retries:
            n = len(self._pending.pop(nh))
            self.ledger.drop("arp_failed", n)
            self.counters["arp.failed"] += 1
            return
        self.ledger.created += 1
        self.counters["arp.requests_sent"] += 1
        self.transmit(0, BROADCAST + self.mac + _ETH_ARP + _ARP_HDR + struct.pack("!H", 1) + self.mac + self.ip
                      + b"\0" * 6 + nh)
        self.schedule(self.now + self.arp_retry_ns, self._arp_request, nh, attempt + 1)

    def _learn(self, ip: bytes, mac: bytes) -> None:
        self.arp[ip] = (mac, self.now)
        held = self._pending.pop(ip, None)
        if held:
            for p in held:
                self.transmit(0, mac + self.mac + _ETH_IP + p)

    # ------------------------------------------------------------------ input path
    def receive(self, port: int, frame: bytes) -> None:
        dst = frame[:6]
        if dst != self.mac and not dst[0] & 1:
            self.ledger.drop("l2_not_for_host")
            return
        et = frame[12:14]
        if et == _ETH_IP:
            self._ip(frame)
        elif et == _ETH_ARP:
            self._arp(frame)
        elif et == b"\x81\x00":
            self.ledger.drop("vlan_tagged")           # hosts send and take untagged frames only
        else:
            self.ledger.drop("unknown_ethertype")

    def _arp(self, f: bytes) -> None:
        if len(f) < 42 or f[14:20] != _ARP_HDR:
            self.ledger.drop("arp_malformed")
            return
        op = f[20] << 8 | f[21]
        sha, spa, tpa = f[22:28], f[28:32], f[38:42]
        if tpa != self.ip:
            if spa in self.arp:                       # RFC 826: update an entry we already have
                self.arp[spa] = (sha, self.now)
            self.ledger.deliver("arp_not_for_host")
            return
        self._learn(spa, sha)
        if op == 1:
            self.counters["arp.replies_sent"] += 1
            self.ledger.deliver("arp_request")
            self.ledger.created += 1
            reply = sha + self.mac + _ETH_ARP + _ARP_HDR + b"\x00\x02" + self.mac + self.ip + sha + spa
            self._answer(lambda: self.transmit(0, reply))
        else:
            self.ledger.deliver("arp_reply")

    def _answer(self, fn: Callable[[], None]) -> None:
        if self.stack_ns:
            self.schedule(self.now + self.stack_ns, fn)
        else:
            fn()

    def _ip(self, f: bytes) -> None:
        if len(f) < 34 or f[14] >> 4 != 4:
            self.ledger.drop("ip_malformed")
            return
        ihl = (f[14] & 15) * 4
        tot = f[16] << 8 | f[17]
        if ihl < 20 or tot < ihl or len(f) < 14 + tot:
            self.ledger.drop("ip_malformed")
            return
        if checksum(f[14:14 + ihl]) != 0:
            self.ledger.drop("ip_bad_checksum")        # RFC 1122 3.2.1.2: silently discarded
            return
        dst = f[30:34]
        bcast = dst == self.bcast or dst == b"\xff\xff\xff\xff"
        if dst != self.ip and not bcast:
            self.ledger.drop("ip_not_for_host")        # a host does not forward
            return
        if (f[20] & 0x3F) or f[21]:
            self.ledger.drop("ip_fragment")            # no reassembly
            return
        proto, src = f[23], f[26:30]
        pl = f[14 + ihl:14 + tot]
        if proto == 17 and len(pl) >= 8:
            dport = pl[2] << 8 | pl[3]
            fn = self.udp.get(dport)
            if fn is not None:
                self.ledger.deliver("udp")
                fn(src, pl[0] << 8 | pl[1], pl[8:], self.now)
            elif bcast:
                self.ledger.deliver("udp_broadcast_no_socket")
            else:
                self.ledger.deliver("udp_no_socket")
                self._icmp_error(f[14:14 + tot], ihl, 3, 3)
        elif proto == 1 and len(pl) >= 8:
            self._icmp(src, pl, bcast)
        else:
            self.ledger.deliver("ip_other_protocol")

    def _icmp(self, src: bytes, m: bytes, bcast: bool) -> None:
        if checksum(m) != 0:
            self.ledger.drop("icmp_bad_checksum")
            return
        t = m[0]
        if t == 8:
            if bcast:
                self.ledger.deliver("icmp_echo_broadcast_ignored")
                return
            self.ledger.deliver("icmp_echo_request")
            self.counters["icmp.echo_replies"] += 1
            body = b"\x00\x00\x00\x00" + m[4:]
            body = body[:2] + checksum(body).to_bytes(2, "big") + body[4:]
            self._answer(lambda: self.send_ip(src, 1, body))
        elif t == 0:
            fn = self.echo_handlers.get(m[4] << 8 | m[5])
            self.ledger.deliver("icmp_echo_reply" if fn else "icmp_echo_reply_unmatched")
            if fn:
                fn(src, 0, 0, m, self.now)
        elif t in (3, 11) and len(m) >= 8 + 20 + 8:
            q = m[8:]
            qihl = (q[0] & 15) * 4
            key = (q[9], q[qihl] << 8 | q[qihl + 1]) if len(q) >= qihl + 4 else (q[9], -1)
            fn = self.error_handlers.get(key)
            self.ledger.deliver("icmp_error" if fn else "icmp_error_unmatched")
            if fn:
                fn(src, t, m[1], m, self.now)
        else:
            self.ledger.deliver("icmp_other")

    def _icmp_error(self, ip: bytes, ihl: int, t: int, code: int) -> None:
        body = bytes([t, code]) + b"\0\0\0\0\0\0" + ip[:ihl + 8]
        body = body[:2] + checksum(body).to_bytes(2, "big") + body[4:]
        self.counters[f"icmp.sent_{t}_{code}"] += 1
        src = ip[12:16]
        self._answer(lambda: self.send_ip(src, 1, body))

    # ------------------------------------------------------------------ accounting
    def settle(self) -> Ledger:
        super().settle()
        self.ledger.held += sum(len(v) for v in self._pending.values())
        return self.ledger

    def stats(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": str(self.itf), "mac": mac_str(self.mac),
                "arp": {".".join(str(b) for b in ip): mac_str(m) for ip, (m, _) in sorted(self.arp.items())},
                "counters": dict(sorted(self.counters.items())), "ledger": self.settle().as_dict()}

"""The slow path: the host software behind the NPR's control processor.

Every packet the fast path cannot forward reaches the host as a
``HostPacket`` (through the core's bounded exception and local-delivery
rings, at the XScale's modelled per-packet cost). ``SlowPath`` handles each
exception reason:

==================  ==========================================================
reason              answer
==================  ==========================================================
ttl_expired         ICMP time exceeded (11/0) from the receiving interface
no_route            ICMP destination unreachable, network (3/0)
nh_invalid          ICMP destination unreachable, host (3/1): the route has
                    neither a usable next-hop address nor a MAC
arp_needed          ARP resolution, packet held (see ``host.arp``); a
                    directed broadcast of a port's subnet is dropped instead
mtu_exceeded        DF set: ICMP fragmentation needed (3/4) carrying the
                    egress MTU (RFC 1191); otherwise fragmented (RFC 791)
                    and the fragments re-classified by the fast path
ip_options          options processed (``host.ipoptions``) and the datagram
                    forwarded in software, or ICMP parameter problem (12/0)
local_delivery      echo request -> echo reply from the address pinged;
                    UDP -> port unreachable (3/3); TCP -> reset (RFC 793);
                    other protocols -> protocol unreachable (3/2); unless
                    a handler claims it; broadcasts are never answered
non_ip              ARP handled; other EtherTypes counted and dropped unless
                    a handler claims them
filter_to_host,     given to the ``to_host`` handlers, else counted as
plugin_to_host      consumed
==================  ==========================================================

Not done: reassembly (fragments addressed to the router are counted and
dropped), options of packets addressed to the router (ignored; an echo
reply carries none), ICMP redirects and source quench (RFC 1812 4.3.3.3
deprecates it). Filters do not apply to what the host forwards or sends.

ICMP errors follow RFC 1812 4.3.2: none about an ICMP error, a packet to a
broadcast or multicast address (IP or link layer), a non-first fragment or
a source that is not a single host; they quote the offending header plus
8 bytes, have TOS 0xC0 (precedence internetwork control, 4.3.2.5) and TTL
64, and are rate limited by a token bucket (4.3.2.8; echo replies are not).

Packets the host originates (ICMP, ARP, TCP resets, software-forwarded
datagrams) are built whole -- the host routes them with its own RIB and ARP
cache -- and sent pass-through to queue ``host_qid`` (0x1fff, as the NPR's
XScale does) of the output port. IP identification numbers come from one
counter per router starting at 1.

Cost model: the host is one server with a bounded FIFO. Each packet costs
``cost_us[kind]`` of processing (estimates, see ``DEFAULT_COSTS_US``), done
in simulated time: its answer leaves when the processing ends. A packet
arriving with ``queue`` packets already waiting is dropped and counted
(``slowpath.queue_full_drops``); before that, the core's exception ring
(``exc_ring_full``) bounds what the XScale's ~2 us per packet cannot take.
Timers (ARP retries and ageing) run outside that queue.
"""
from __future__ import annotations

import ipaddress
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .arp import ArpResolver, Held
from .handlers import Counters
from .ipoptions import copied_options, process_options
from .packet import (ETH_ARP, ETH_IPV4, ICMP_QUERY_TYPES, IPv4, checksum, ether, icmp_packet, ip_bytes,
                     ipv4_header, parse_ipv4, set_ipv4_checksum, tcp_rst)
from .rib import Rib

if TYPE_CHECKING:
    from np_model.assemblies.npr import NPR, HostPacket

__all__ = ["SlowPath", "SlowPathConfig", "DEFAULT_COSTS_US", "COUNTERS", "Interface", "fragment"]

# Processing time per packet kind, in microseconds of the control processor.
# Estimates: no source gives the NPR daemon's per-packet costs; these are
# typical of a 700 MHz XScale running the daemon in Linux user space.
DEFAULT_COSTS_US: dict[str, float] = {
    "arp": 8.0,             # ARP request/reply in (answer, learn)
    "arp_needed": 6.0,      # hold a packet, maybe send a request
    "echo": 12.0,           # echo request -> reply
    "icmp_error": 15.0,     # time exceeded, unreachable
    "options": 25.0,        # IP options processing + software forwarding
    "mtu": 25.0,            # fragmentation needed, or fragmenting
    "local": 10.0,          # other local delivery (UDP/TCP/other protocols)
    "non_ip": 3.0,          # other EtherTypes
    "to_host": 3.0,         # filter_to_host, plugin_to_host
}

COUNTERS = (
    "slowpath.received", "slowpath.processed", "slowpath.queue_full_drops", "slowpath.queue_hwm",
    "slowpath.busy_ns", "slowpath.malformed",
    "arp.requests_received", "arp.replies_received", "arp.requests_sent", "arp.replies_sent",
    "arp.learned", "arp.resolved", "arp.failed", "arp.held", "arp.held_hwm", "arp.released",
    "arp.hold_overflow_drops", "arp.timeout_drops", "arp.aged_out", "arp.ignored", "arp.off_subnet",
    "arp.malformed", "arp.directed_broadcast_drops",
    "icmp.echo_replies", "icmp.echo_broadcast_ignored", "icmp.bad_checksum",
    "icmp.time_exceeded", "icmp.unreach_net", "icmp.unreach_host", "icmp.unreach_protocol",
    "icmp.unreach_port", "icmp.frag_needed", "icmp.param_problem", "icmp.rate_limited",
    "icmp.suppressed_icmp_error", "icmp.suppressed_broadcast", "icmp.suppressed_fragment",
    "icmp.suppressed_bad_source",
    "tcp.resets_sent",
    "options.forwarded", "options.record_route", "options.timestamp", "options.param_problem",
    "options.source_route_refused", "options.multicast_drops",
    "frag.datagrams", "frag.fragments",
    "local.claimed", "local.broadcast_drops", "local.fragment_drops", "local.icmp_consumed",
    "non_ip.claimed", "non_ip.drops",
    "to_host.claimed", "to_host.consumed",
    "out.frames", "out.no_route", "out.to_self_drops",
)
_FAMILIES = ("slowpath.received.", "slowpath.queue_full.", "non_ip.ethertype.")

_ICMP_NAMES = {(11, 0): "time_exceeded", (3, 0): "unreach_net", (3, 1): "unreach_host",
               (3, 2): "unreach_protocol", (3, 3): "unreach_port", (3, 4): "frag_needed", (12, 0): "param_problem"}


@dataclass(frozen=True)
class Interface:
    """A router port as the host sees it."""

    port: int
    itf: ipaddress.IPv4Interface
    mac: bytes
    mtu: int

    @property
    def ip(self) -> bytes:
        return self.itf.ip.packed

    def contains(self, ip: bytes) -> bool:
        return ipaddress.IPv4Address(ip) in self.itf.network

    @property
    def broadcast(self) -> bytes:
        return self.itf.network.broadcast_address.packed


@dataclass
class SlowPathConfig:
    """Slow-path settings (the ``slow_path:`` section of the configuration)."""

    queue: int = 64                               # packets waiting for the host, beyond the one in service
    cost_us: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_COSTS_US))
    icmp_rate: float = 1000.0                     # ICMP errors per second (token refill)
    icmp_burst: int = 50                          # bucket depth
    icmp_ttl: int = 64
    arp_retries: int = 3                          # requests per resolution [C-code nprd_arp.cc]
    arp_retry_ms: float = 5000.0                  # between requests [C-code nprd_arp.cc]
    arp_max_age_s: float = 300.0                  # dynamic entry lifetime since last refresh
    arp_hold_per_nh: int = 8                      # packets held per unresolved next hop
    arp_hold_total: int = 256                     # packets held in all
    host_qid: int = 0x1FFF                        # queue of host-originated packets [C-code]

    def __post_init__(self) -> None:
        unknown = set(self.cost_us) - set(DEFAULT_COSTS_US)
        if unknown:
            raise ValueError(f"unknown slow-path cost kind {sorted(unknown)[0]!r}; "
                             f"valid: {', '.join(DEFAULT_COSTS_US)}")
        self.cost_us = {**DEFAULT_COSTS_US, **self.cost_us}
        for k, v in self.cost_us.items():
            if v < 0:
                raise ValueError(f"slow-path cost {k} must be >= 0 us, got {v}")
        for name in ("queue", "icmp_burst", "arp_retries", "arp_hold_per_nh", "arp_hold_total"):
            if int(getattr(self, name)) < (0 if name == "queue" else 1):
                raise ValueError(f"slow_path.{name} must be >= {0 if name == 'queue' else 1}, "
                                 f"got {getattr(self, name)}")
        for name in ("icmp_rate", "arp_retry_ms", "arp_max_age_s"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"slow_path.{name} must be > 0, got {getattr(self, name)}")
        if not 1 <= self.icmp_ttl <= 255:
            raise ValueError(f"slow_path.icmp_ttl must be 1..255, got {self.icmp_ttl}")
        if not 0 <= self.host_qid < 8192:
            raise ValueError(f"slow_path.host_qid must be 0..8191, got {self.host_qid}")

    @property
    def arp_retry_interval_ns(self) -> float:
        return self.arp_retry_ms * 1e6

    @property
    def arp_max_age_ns(self) -> float:
        return self.arp_max_age_s * 1e9


class _TokenBucket:
    """RFC 1812 4.3.2.8 rate limit, refilled continuously in simulated time."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self.tokens = float(burst)
        self.t_ns = 0.0

    def take(self, now_ns: float) -> bool:
        self.tokens = min(self.burst, self.tokens + (now_ns - self.t_ns) * self.rate * 1e-9)
        self.t_ns = now_ns
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


Handler = Callable[["SlowPath", "HostPacket"], bool]


class SlowPath:
    """Consumes the router's exceptions and answers them (see module doc).

    Args:
        router: the NPR; the slow path becomes its ``host_handler``.
        rib: the control plane's RIB (routes used for host-originated packets);
            a RIB with the connected and local routes is made if None.
        config: settings; defaults as on the NPR.
    """

    def __init__(self, router: "NPR", rib: Rib | None = None, config: SlowPathConfig | None = None):
        self.r = router
        self.cfg = config or SlowPathConfig()
        if rib is None:
            from .control import connected_rib
            rib = connected_rib(router)
        self.rib = rib
        self.ifaces = [Interface(i, pc.interface, bytes.fromhex(pc.mac.replace(":", "")), pc.mtu)
                       for i, pc in enumerate(router.ports)]
        self.router_addrs = frozenset(i.ip for i in self.ifaces)
        self.counters = Counters(COUNTERS, _FAMILIES)
        self.arp = ArpResolver(self)
        self.ethertype_handlers: dict[int, Handler] = {}
        self.local_handlers: dict[tuple[int, int | None], Handler] = {}
        self.to_host_handlers: list[Handler] = []
        self._bucket = _TokenBucket(self.cfg.icmp_rate, self.cfg.icmp_burst)
        self._queue: deque = deque()
        self._busy = False
        self._ip_id = 0
        router.host_handler = self._arrive

    # ------------------------------------------------------------------ public
    def claim_ethertype(self, ethertype: int, fn: Handler) -> None:
        """Give non-IP frames of ``ethertype`` to ``fn`` (it returns True when it used the frame)."""
        if ethertype in (ETH_IPV4, ETH_ARP):
            raise ValueError(f"EtherType {ethertype:#06x} is handled by the slow path itself")
        self.ethertype_handlers[ethertype] = fn

    def claim_local(self, proto: int, port: int | None, fn: Handler) -> None:
        """Give packets to the router of IP protocol ``proto`` (and UDP/TCP
        destination ``port``; None = any) to ``fn``."""
        self.local_handlers[(proto, port)] = fn

    def on_to_host(self, fn: Handler) -> None:
        """Offer filter_to_host and plugin_to_host packets to ``fn``."""
        self.to_host_handlers.append(fn)

    @property
    def processing(self) -> bool:
        """A packet in service or queued for the host (not counting ARP waits)."""
        return self._busy or bool(self._queue)

    @property
    def idle(self) -> bool:
        """Nothing queued, in service or waiting for ARP."""
        return not self._busy and not self._queue and not self.arp.pending

    def next_ip_id(self) -> int:
        self._ip_id = (self._ip_id + 1) & 0xFFFF
        return self._ip_id

    # ------------------------------------------------------------------ queue and cost model
    def _arrive(self, r: "NPR", hp: "HostPacket") -> None:
        c = self.counters
        c.add("slowpath.received")
        c.add(f"slowpath.received.{hp.reason}")
        if self._busy and len(self._queue) >= self.cfg.queue:
            c.add("slowpath.queue_full_drops")
            c.add(f"slowpath.queue_full.{hp.reason}")
            return
        self._queue.append(hp)
        c.max("slowpath.queue_hwm", len(self._queue))
        if not self._busy:
            self._start()

    def _start(self) -> None:
        hp = self._queue.popleft()
        self._busy = True
        cost_ns = self.cfg.cost_us[self._kind(hp)] * 1e3
        self.counters.add("slowpath.busy_ns", int(cost_ns))
        self.r.call_after(cost_ns, lambda: self._done(hp))

    def _done(self, hp: "HostPacket") -> None:
        self._busy = False
        self.counters.add("slowpath.processed")
        self._process(hp)
        if self._queue:
            self._start()

    @staticmethod
    def _kind(hp: "HostPacket") -> str:
        reason = hp.reason
        if reason in ("ttl_expired", "no_route", "nh_invalid"):
            return "icmp_error"
        if reason == "local_delivery":
            d = hp.data
            ihl = (d[14] & 15) * 4 if len(d) > 14 else 20
            is_echo = len(d) > 14 + ihl and d[23] == 1 and d[14 + ihl] == 8
            return "echo" if is_echo else "local"
        if reason == "non_ip":
            return "arp" if hp.data[12:14] == b"\x08\x06" else "non_ip"
        return {"arp_needed": "arp_needed", "ip_options": "options", "mtu_exceeded": "mtu"}.get(reason, "to_host")

    # ------------------------------------------------------------------ dispatch
    def _process(self, hp: "HostPacket") -> None:
        reason = hp.reason
        if reason == "non_ip":
            self._non_ip(hp)
            return
        if reason in ("filter_to_host", "plugin_to_host"):
            if any(fn(self, hp) for fn in self.to_host_handlers):
                self.counters.add("to_host.claimed")
            else:
                self.counters.add("to_host.consumed")
            return
        ip = parse_ipv4(hp.data)
        if ip is None:
            self.counters.add("slowpath.malformed")
            return
        l2_dst = hp.data[:6]
        if reason == "ttl_expired":
            self.icmp_error(ip, hp.in_port, 11, 0, l2_dst=l2_dst)
        elif reason == "no_route":
            self.icmp_error(ip, hp.in_port, 3, 0, l2_dst=l2_dst)
        elif reason == "nh_invalid":
            self.icmp_error(ip, hp.in_port, 3, 1, l2_dst=l2_dst)
        elif reason == "arp_needed":
            self._arp_needed(hp, ip)
        elif reason == "mtu_exceeded":
            self._mtu_exceeded(hp, ip)
        elif reason == "ip_options":
            self._options(hp, ip)
        elif reason == "local_delivery":
            self._local(hp, ip)
        else:                                     # a reason this host does not know
            self.counters.add("slowpath.malformed")

    def _non_ip(self, hp: "HostPacket") -> None:
        et = int.from_bytes(hp.data[12:14], "big")
        if et == ETH_ARP:
            self.arp.input(hp)
            return
        fn = self.ethertype_handlers.get(et)
        if fn is not None and fn(self, hp):
            self.counters.add("non_ip.claimed")
            return
        self.counters.add("non_ip.drops")
        self.counters.add(f"non_ip.ethertype.{et:#06x}")

    def _arp_needed(self, hp: "HostPacket", ip: IPv4) -> None:
        nh = ip_bytes(hp.nh_ip)
        itf = self.ifaces[hp.out_port]
        if itf.itf.network.prefixlen < 31 and nh in (itf.broadcast, itf.itf.network.network_address.packed):
            self.counters.add("arp.directed_broadcast_drops")     # RFC 2644: not forwarded
            return
        self.arp.need(nh, hp.out_port, Held(True, hp.data, hp.in_port, hp.ptag, orig=ip, l2_dst=hp.data[:6]))

    def _mtu_exceeded(self, hp: "HostPacket", ip: IPv4) -> None:
        mtu = self.ifaces[hp.out_port].mtu
        if ip.df:
            self.icmp_error(ip, hp.in_port, 3, 4, rest=struct.pack("!HH", 0, mtu), l2_dst=hp.data[:6])
            return
        frags = fragment(ip.raw, mtu)
        self.counters.add("frag.datagrams")
        for f in frags:
            self.counters.add("frag.fragments")
            self.r.inject(hp.data[:14] + f, passthru=False, keep_l2=False, in_port=hp.in_port, ptag=hp.ptag)

    # ------------------------------------------------------------------ IP options: software forwarding
    def _options(self, hp: "HostPacket", ip: IPv4) -> None:
        c, l2_dst = self.counters, hp.data[:6]
        if ip.ttl <= 1:
            self.icmp_error(ip, hp.in_port, 11, 0, l2_dst=l2_dst)
            return
        route = self.rib.lookup(ip.dst, hp.in_port)
        if route is None or route.local:
            self.icmp_error(ip, hp.in_port, 3, 0, l2_dst=l2_dst)
            return
        if route.multicast_ports:
            c.add("options.multicast_drops")
            return
        if route.next_hop == "0.0.0.0" and route.mac is None:
            self.icmp_error(ip, hp.in_port, 3, 1, l2_dst=l2_dst)
            return
        out = self.ifaces[route.port]
        hdr = bytearray(ip.header)
        res = process_options(hdr, out_addr=out.ip, router_addrs=self.router_addrs, now_ms=int(self.r.now_ns // 1e6))
        if res.problem is not None:
            c.add("options.param_problem")
            if "source route" in res.why:
                c.add("options.source_route_refused")
            self.icmp_error(ip, hp.in_port, 12, 0, rest=bytes([res.problem, 0, 0, 0]), l2_dst=l2_dst)
            return
        for name in ("record_route", "timestamp"):
            if name in res.processed:
                c.add(f"options.{name}")
        hdr[8] -= 1
        set_ipv4_checksum(hdr)
        new = bytes(hdr) + ip.payload
        if len(new) > out.mtu:
            if ip.df:
                self.icmp_error(ip, hp.in_port, 3, 4, rest=struct.pack("!HH", 0, out.mtu), l2_dst=l2_dst)
                return
            pieces = fragment(new, out.mtu)
            c.add("frag.datagrams")
            c.add("frag.fragments", len(pieces))
        else:
            pieces = [new]
        c.add("options.forwarded")
        nh = ip_bytes(route.next_hop) if route.next_hop else ip.dst
        for p in pieces:
            self._emit(p, route.port, nh, route.mac, route.qid or self.cfg.host_qid, orig=ip, in_port=hp.in_port,
                       l2_dst=l2_dst)

    # ------------------------------------------------------------------ local delivery
    def _local(self, hp: "HostPacket", ip: IPv4) -> None:
        c = self.counters
        bcast = self._is_broadcast(ip.dst) or bool(hp.data[0] & 1)
        if ip.is_fragment:
            c.add("local.fragment_drops")         # no reassembly on the host (documented)
            return
        dport = None
        if ip.proto in (6, 17) and len(ip.payload) >= 4:
            dport = int.from_bytes(ip.payload[2:4], "big")
        fn = self.local_handlers.get((ip.proto, dport)) or self.local_handlers.get((ip.proto, None))
        if fn is not None and fn(self, hp):
            c.add("local.claimed")
            return
        if ip.proto == 1:
            self._local_icmp(ip, bcast)
            return
        if bcast:
            c.add("local.broadcast_drops")
            return
        if ip.proto == 17:
            self.icmp_error(ip, hp.in_port, 3, 3, src=ip.dst, l2_dst=hp.data[:6])
        elif ip.proto == 6:
            seg = tcp_rst(ip)
            if seg is not None:
                self.originate(ipv4_header(src=ip.dst, dst=ip.src, proto=6, payload_len=len(seg),
                                           ident=self.next_ip_id(), ttl=self.cfg.icmp_ttl) + seg)
                c.add("tcp.resets_sent")
        else:
            self.icmp_error(ip, hp.in_port, 3, 2, src=ip.dst, l2_dst=hp.data[:6])

    def _local_icmp(self, ip: IPv4, bcast: bool) -> None:
        c = self.counters
        m = ip.payload
        if len(m) < 8 or checksum(m) != 0:
            c.add("icmp.bad_checksum")            # RFC 1122 3.2.2: silently discarded
            return
        if m[0] != 8:
            c.add("local.icmp_consumed")
            return
        if bcast:
            c.add("icmp.echo_broadcast_ignored")  # RFC 1122 3.2.2.6 MAY; as Linux's default
            return
        reply = icmp_packet(0, 0, m[4:8], m[8:])
        # RFC 1122 3.2.2.6: source = the address the request was sent to; TOS kept (RFC 1812 4.3.2.5)
        self.originate(ipv4_header(src=ip.dst, dst=ip.src, proto=1, payload_len=len(reply),
                                   ident=self.next_ip_id(), ttl=self.cfg.icmp_ttl, tos=ip.tos) + reply)
        c.add("icmp.echo_replies")

    # ------------------------------------------------------------------ ICMP errors
    def _is_broadcast(self, a: bytes) -> bool:
        if a == b"\xff\xff\xff\xff" or 224 <= a[0] <= 239:
            return True
        return any(i.itf.network.prefixlen < 31 and a == i.broadcast for i in self.ifaces)

    def icmp_error(self, orig: IPv4, in_port: int, icmp_type: int, code: int, *, rest: bytes = b"\0\0\0\0",
                   src: bytes | None = None, l2_dst: bytes = b"") -> bool:
        """Send an ICMP error about ``orig`` (received on ``in_port``) unless
        RFC 1812 4.3.2.7 forbids it or the rate limit refuses; True if sent."""
        c = self.counters
        if orig.proto == 1 and orig.frag_offset == 0 and (len(orig.payload) < 1
                                                          or orig.payload[0] not in ICMP_QUERY_TYPES):
            c.add("icmp.suppressed_icmp_error")
            return False
        if self._is_broadcast(orig.dst) or (l2_dst and l2_dst[0] & 1):
            c.add("icmp.suppressed_broadcast")
            return False
        if orig.frag_offset != 0:
            c.add("icmp.suppressed_fragment")
            return False
        s = orig.src
        if s[0] in (0, 127) or s[0] >= 224 or self._is_broadcast(s):
            c.add("icmp.suppressed_bad_source")
            return False
        if not self._bucket.take(self.r.now_ns):
            c.add("icmp.rate_limited")
            return False
        body = icmp_packet(icmp_type, code, rest, orig.raw[:orig.ihl * 4 + 8])
        if src is None:
            src = self.ifaces[in_port].ip
        self.originate(ipv4_header(src=src, dst=orig.src, proto=1, payload_len=len(body), ident=self.next_ip_id(),
                                   ttl=self.cfg.icmp_ttl, tos=0xC0) + body)
        c.add(f"icmp.{_ICMP_NAMES[(icmp_type, code)]}")
        return True

    # ------------------------------------------------------------------ output
    def originate(self, ip: bytes) -> None:
        """Route a datagram the host built, with the RIB, and send it."""
        dst = ip[16:20]
        route = self.rib.lookup(dst)
        if route is None or route.multicast_ports or (route.next_hop == "0.0.0.0" and route.mac is None):
            self.counters.add("out.no_route")
            return
        if route.local:
            self.counters.add("out.to_self_drops")
            return
        nh = ip_bytes(route.next_hop) if route.next_hop else dst
        pieces = fragment(ip, self.ifaces[route.port].mtu) if len(ip) > self.ifaces[route.port].mtu else [ip]
        for p in pieces:
            self._emit(p, route.port, nh, route.mac, self.cfg.host_qid)

    def _emit(self, ip: bytes, port: int, nh: bytes, mac: str | None, qid: int, *, orig: IPv4 | None = None,
              in_port: int = -1, l2_dst: bytes = b"") -> None:
        m = bytes.fromhex(mac.replace(":", "")) if mac else self.arp.lookup(nh)
        if m is None:
            self.arp.need(nh, port, Held(False, ip, in_port, qid=qid, orig=orig, l2_dst=l2_dst))
            return
        self.send_frame(port, ether(m, self.ifaces[port].mac, ETH_IPV4, ip), qid=qid)

    def send_frame(self, port: int, frame: bytes, qid: int | None = None) -> None:
        """Send a whole frame out of ``port`` through Mux, pass-through."""
        self.counters.add("out.frames")
        self.r.inject(frame, passthru=True, keep_l2=True, out_port=port,
                      qid=self.cfg.host_qid if qid is None else qid)

    # ------------------------------------------------------------------ statistics
    def stats(self) -> dict[str, int]:
        return self.counters.as_dict()


def fragment(ip: bytes, mtu: int) -> list[bytes]:
    """Fragment an IPv4 datagram to ``mtu`` (RFC 791 p. 26): data in 8-byte
    blocks, all options in the first fragment, copied options in the rest."""
    ihl = (ip[0] & 15) * 4
    hdr, data = ip[:ihl], ip[ihl:]
    ff = int.from_bytes(ip[6:8], "big")
    base_off, mf = ff & 0x1FFF, ff & 0x2000
    later_opts = copied_options(hdr[20:])
    out, pos = [], 0
    while pos < len(data):
        h = bytearray(hdr if pos == 0 else hdr[:20] + later_opts)
        h[0] = 0x40 | (len(h) // 4)
        room = (mtu - len(h)) // 8 * 8
        if room <= 0:
            raise ValueError(f"MTU {mtu} leaves no room for data after a {len(h)}-byte header")
        chunk = data[pos:pos + room]
        last = pos + len(chunk) >= len(data)
        h[2:4] = (len(h) + len(chunk)).to_bytes(2, "big")
        h[6:8] = ((ff & 0x4000) | (mf if last else 0x2000) | (base_off + pos // 8)).to_bytes(2, "big")
        set_ipv4_checksum(h)
        out.append(bytes(h) + chunk)
        pos += len(chunk)
    return out

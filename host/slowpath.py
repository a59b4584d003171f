"""The slow path: the host software behind the NPR's control processor.

Every packet the fast path cannot forward reaches the host as a
``HostPacket`` (through the core's bounded exception and local-delivery
rings, at the XScale's modelled per-packet cost). ``SlowPath`` handles each
exception reason:

==================  ==========================================================
reason              answer
==================  ==========================================================
ttl_expired         ICMP time exceeded (11/0)
no_route            ICMP destination unreachable, network (3/0)
nh_invalid          ICMP destination unreachable, host (3/1): the route has
                    neither a usable next-hop address nor a MAC
arp_needed          ARP resolution, packet held (see ``host.arp``); a
                    directed broadcast of a port's subnet is dropped instead
mtu_exceeded        DF set: ICMP fragmentation needed (3/4) carrying the
                    egress MTU (RFC 1191); otherwise fragmented (RFC 791)
                    and the fragments re-classified by the fast path
redirect            the fast path forwarded the packet back out of its input
                    port to a next hop on the source's subnet: ICMP redirect
                    for host (5/1) naming that next hop (RFC 1812 5.2.7.2),
                    unless ``redirects`` is off
ip_options          options processed (``host.ipoptions``) and the datagram
                    forwarded in software, or ICMP parameter problem (12/0);
                    source routes as ``source_route`` says (below)
local_delivery      fragments reassembled first (``host.reassembly``); a
                    source route as ``source_route`` says (below);
                    echo request -> echo reply from the address pinged,
                    carrying the request's Record Route / Timestamp options
                    updated (RFC 1122 3.2.2.6); address mask request ->
                    reply (RFC 1812 4.3.3.9); UDP -> port unreachable
                    (3/3); TCP -> reset (RFC 793); other protocols ->
                    protocol unreachable (3/2); unless a handler claims it;
                    broadcasts are never answered
non_ip              ARP handled; other EtherTypes counted and dropped unless
                    a handler claims them
filter_to_host,     given to the ``to_host`` handlers, else counted as
plugin_to_host      consumed
==================  ==========================================================

Source routes (LSRR, SSRR: RFC 791, RFC 1812 5.2.4.1 and 5.3.13.4), the
operator's choice ``source_route``: ``drop`` (default, RFC 7126 4.3/4.4:
every datagram carrying one is silently discarded), ``reject`` (discarded
with ICMP destination unreachable, source route failed, 3/5) or ``accept``:
at the datagram's current destination the next address becomes the
destination and the outgoing interface's address is recorded in its place;
in transit a loose route is forwarded as it is and a strict one only to a
directly connected destination (else 3/5); a route that has reached the
router is delivered locally, and an echo reply to it carries the route
reversed (RFC 1122 3.2.2.6).

Martian sources and destinations (RFC 1812 5.3.7, the fast path's rule:
``host.packet.martian_src``) are dropped here too -- on the options path and
for the next address of a source route -- and counted (``martian.*``).

Address mask requests are answered with the receiving interface's mask
(RFC 1812 4.3.3.9, ``address_mask_reply``); echo requests can be ignored
(``answer_echo: false``, 4.3.3.6). Not done: source quench (RFC 1812
4.3.3.3 deprecates it), ICMP information and timestamp replies, router
discovery (RFC 1256), IGMP; filters do not apply to what the host forwards
or sends. docs/conformance.md lists every RFC 1812 requirement.

ICMP errors follow RFC 1812 4.3.2: none about an ICMP error, a packet to a
broadcast or multicast address (IP or link layer), a non-first fragment or
a source that is not a single host; their source address is the address of
the interface the error leaves by (4.3.2.4: the host routes the error to
the offending source with its RIB first); they quote as much of the
offending datagram as fits in an ``icmp_error_len``-byte error (576 by
default, 4.3.2.3; at least its header + 8 bytes, RFC 792; never link-layer
padding), have TOS 0xC0 (precedence internetwork control, 4.3.2.5) and TTL
``icmp_ttl``, and are rate limited by one token bucket (4.3.2.8: redirects
included; echo replies are not).

Packets the host originates (ICMP, ARP, TCP resets, software-forwarded
datagrams) are built whole -- the host routes them with its own RIB and ARP
cache -- and sent pass-through to queue ``host_qid`` (0x1fff, as the NPR's
XScale does) of the output port. IP identification numbers come from one
counter per router starting at 1.

Reassembly (RFC 1122 3.3.2, RFC 1812 4.2.2.8) holds at most
``reasm_max_bytes`` of fragments, times a datagram out after
``reasm_timeout_s`` (ICMP 11/1 when fragment zero came), and discards
overlapping fragments (RFC 5722); see ``host.reassembly``. ``idle`` does not
wait for incomplete datagrams.

Cost model: the host is one server with a bounded FIFO. Each packet costs
``cost_us[kind]`` of processing (estimates, see ``DEFAULT_COSTS_US``), done
in simulated time: its answer leaves when the processing ends. A packet
arriving with ``queue`` packets already waiting is dropped and counted
(``slowpath.queue_full_drops``); before that, the core's exception ring
(``exc_ring_full``) bounds what the XScale's ~2 us per packet cannot take.
Timers (ARP retries and ageing) run outside that queue.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from .arp import ArpResolver, Held
from .handlers import Counters
from .ipoptions import (SourceRoute, copied_options, echo_options, follow_source_route, pad_options,
                        process_options, reverse_source_route, source_route)
from .packet import (BROADCAST_MAC, ETH_ARP, ETH_IPV4, ICMP_QUERY_TYPES, IPv4, checksum, ether, icmp_packet,
                     ip_bytes, ipv4_header, martian_dst, martian_src, parse_ipv4, set_ipv4_checksum, tcp_rst)
from .reassembly import REASM_COUNTERS, Reassembler
from .rib import Rib, Route

if TYPE_CHECKING:
    from np_model.assemblies.npr import NPR, HostPacket

__all__ = ["SlowPath", "SlowPathConfig", "DEFAULT_COSTS_US", "COUNTERS", "Interface", "fragment",
           "SOURCE_ROUTE_CHOICES"]

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
    "icmp.echo_replies", "icmp.echo_options", "icmp.echo_broadcast_ignored", "icmp.echo_ignored",
    "icmp.address_mask_replies", "icmp.bad_checksum",
    "icmp.time_exceeded", "icmp.reasm_time_exceeded", "icmp.unreach_net", "icmp.unreach_host",
    "icmp.unreach_protocol", "icmp.unreach_port", "icmp.frag_needed", "icmp.unreach_source_route",
    "icmp.param_problem", "icmp.redirect", "icmp.redirects_off", "icmp.rate_limited",
    "icmp.suppressed_icmp_error", "icmp.suppressed_broadcast", "icmp.suppressed_fragment",
    "icmp.suppressed_bad_source", "icmp.no_route_back",
    "tcp.resets_sent",
    "martian.src_drops", "martian.dst_drops",
    "options.forwarded", "options.record_route", "options.timestamp", "options.param_problem",
    "options.source_route_drops", "options.source_route_rejected", "options.source_route_followed",
    "options.source_route_failed", "options.multicast_drops",
    "frag.datagrams", "frag.fragments",
    "local.claimed", "local.broadcast_drops", "local.icmp_consumed",
    "non_ip.claimed", "non_ip.drops",
    "to_host.claimed", "to_host.consumed",
    "out.frames", "out.no_route", "out.to_self_drops",
) + REASM_COUNTERS
_FAMILIES = ("slowpath.received.", "slowpath.queue_full.", "non_ip.ethertype.")

_ICMP_NAMES = {(11, 0): "time_exceeded", (11, 1): "reasm_time_exceeded", (3, 0): "unreach_net",
               (3, 1): "unreach_host", (3, 2): "unreach_protocol", (3, 3): "unreach_port", (3, 4): "frag_needed",
               (3, 5): "unreach_source_route", (12, 0): "param_problem", (5, 1): "redirect"}

SOURCE_ROUTE_CHOICES = ("drop", "reject", "accept")
_IP_HDR, _ICMP_HDR = 20, 8


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
    icmp_error_len: int = 576                     # longest ICMP error datagram, bytes (RFC 1812 4.3.2.3)
    redirects: bool = True                        # send ICMP host redirects (RFC 1812 5.2.7.2, 4.3.3.2)
    source_route: str = "drop"                    # LSRR/SSRR: drop | reject | accept (RFC 7126 4.3/4.4)
    reasm_timeout_s: float = 60.0                 # reassembly timeout (RFC 1122 3.3.2: 60..120 s)
    reasm_max_bytes: int = 262_144                # fragment data held at most (model's choice)
    answer_echo: bool = True                      # answer echo requests (RFC 1812 4.3.3.6: option, default on)
    address_mask_reply: bool = True               # answer address mask requests (4.3.3.9: default on)

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
        if isinstance(self.icmp_error_len, bool) or not isinstance(self.icmp_error_len, int) \
                or not 68 <= self.icmp_error_len <= 1500:
            raise ValueError(f"slow_path.icmp_error_len must be an integer 68..1500 (bytes of the ICMP error "
                             f"datagram; RFC 1812 4.3.2.3 says 576), got {self.icmp_error_len!r}")
        for name in ("redirects", "answer_echo", "address_mask_reply"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"slow_path.{name} must be true or false, got {getattr(self, name)!r}")
        if self.source_route not in SOURCE_ROUTE_CHOICES:
            raise ValueError(f"slow_path.source_route must be one of {', '.join(SOURCE_ROUTE_CHOICES)}, "
                             f"got {self.source_route!r}")
        if isinstance(self.reasm_timeout_s, bool) or not isinstance(self.reasm_timeout_s, (int, float)) \
                or not self.reasm_timeout_s > 0:
            raise ValueError(f"slow_path.reasm_timeout_s must be a number > 0, got {self.reasm_timeout_s!r}")
        if isinstance(self.reasm_max_bytes, bool) or not isinstance(self.reasm_max_bytes, int) \
                or self.reasm_max_bytes < 576:
            raise ValueError(f"slow_path.reasm_max_bytes must be an integer >= 576 (RFC 1122 3.3.2: EMTU_R), "
                             f"got {self.reasm_max_bytes!r}")

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
        self.reasm = Reassembler(self.counters, max_bytes=self.cfg.reasm_max_bytes,
                                 timeout_ns=self.cfg.reasm_timeout_s * 1e9, call_at=router.call_at,
                                 on_timeout=self._reasm_timeout)
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
        """Nothing queued, in service or waiting for ARP (incomplete datagrams
        in reassembly are not waited for: ``reasm.pending``)."""
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
        if reason in ("ttl_expired", "no_route", "nh_invalid", "redirect"):
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
        elif reason == "redirect":
            self._redirect(hp, ip)
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

    def _redirect(self, hp: "HostPacket", ip: IPv4) -> None:
        """RFC 1812 5.2.7.2: a host redirect (5/1) naming the next hop the fast
        path used (``hp.nh_ip``). The copy shares the forwarded buffer, whose
        TTL PLC already decremented: the quote restores the header as received."""
        if not self.cfg.redirects:
            self.counters.add("icmp.redirects_off")
            return
        hdr = bytearray(ip.header)
        hdr[8] = min(255, hdr[8] + 1)
        set_ipv4_checksum(hdr)
        orig = parse_ipv4(bytes(hdr) + ip.payload, 0)
        assert orig is not None
        self.icmp_error(orig, hp.in_port, 5, 1, rest=ip_bytes(hp.nh_ip), l2_dst=hp.data[:6])

    # ------------------------------------------------------------------ martians, source routes
    def _martian(self, ip: IPv4, dst: bytes | None = None) -> bool:
        """The fast path's martian rule, for datagrams the host forwards or
        receives; counted and True when ``ip`` (or the new ``dst``) is one."""
        if martian_src(ip.src, ip.dst):
            self.counters.add("martian.src_drops")
            return True
        if martian_dst(ip.dst if dst is None else dst):
            self.counters.add("martian.dst_drops")
            return True
        return False

    def _source_route_allowed(self, hp: "HostPacket", ip: IPv4) -> bool:
        """``source_route: drop | reject`` end every datagram with a source
        route here (RFC 7126 4.3/4.4); ``accept`` lets it on."""
        policy = self.cfg.source_route
        if policy == "accept":
            return True
        if policy == "drop":
            self.counters.add("options.source_route_drops")
        else:
            self.counters.add("options.source_route_rejected")
            self.icmp_error(ip, hp.in_port, 3, 5, l2_dst=hp.data[:6])
        return False

    def _follow_source_route(self, hp: "HostPacket", ip: IPv4, sr: SourceRoute) -> None:
        """The router is the datagram's current destination and its source route
        has addresses left (RFC 791 3.1, RFC 1812 5.2.4.1, 5.3.13.4): forward
        it to the next address, recording the outgoing interface's address."""
        c, l2_dst = self.counters, hp.data[:6]
        hdr = bytearray(ip.header)
        while True:
            nxt = sr.next_address(hdr)
            if self._martian(ip, nxt):
                return
            route = self.rib.lookup(nxt, hp.in_port)
            if route is None or route.multicast_ports or (sr.strict and not route.local and route.next_hop):
                c.add("options.source_route_failed")      # no way on, or not a neighbour on a strict route
                self.icmp_error(ip, hp.in_port, 3, 5, l2_dst=l2_dst)
                return
            if not route.local:
                break
            out = self.ifaces[route.port if route.port is not None else hp.in_port]
            follow_source_route(hdr, sr, out.ip)         # another of the router's own addresses: next hop
            sr = source_route(hdr)
            if sr is None or sr.exhausted:
                c.add("options.source_route_failed")
                self.icmp_error(ip, hp.in_port, 3, 5, l2_dst=l2_dst)
                return
        if ip.ttl <= 1:
            self.icmp_error(ip, hp.in_port, 11, 0, l2_dst=l2_dst)
            return
        if route.next_hop == "0.0.0.0" and route.mac is None:
            self.icmp_error(ip, hp.in_port, 3, 1, l2_dst=l2_dst)
            return
        out = self.ifaces[route.port]
        follow_source_route(hdr, sr, out.ip)
        c.add("options.source_route_followed")
        self._forward_sw(hp, ip, hdr, route, no_redirect=True)

    # ------------------------------------------------------------------ IP options: software forwarding
    def _options(self, hp: "HostPacket", ip: IPv4) -> None:
        c, l2_dst = self.counters, hp.data[:6]
        if self._martian(ip):
            return
        sr = source_route(ip.header)
        if sr is not None and not self._source_route_allowed(hp, ip):
            return
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
        if sr is not None and sr.strict and route.next_hop:
            # a strict route in transit: this router is not on it, so only a
            # directly connected destination can be reached strictly (as Linux)
            c.add("options.source_route_failed")
            self.icmp_error(ip, hp.in_port, 3, 5, l2_dst=l2_dst)
            return
        self._forward_sw(hp, ip, bytearray(ip.header), route, no_redirect=sr is not None)

    def _forward_sw(self, hp: "HostPacket", ip: IPv4, hdr: bytearray, route: Route, *, no_redirect: bool) -> None:
        """Forward a datagram in software: options processed for the outgoing
        interface, TTL - 1, fragmented to its MTU; a redirect as the fast path
        would send one (5.2.7.2; never for a source-routed datagram)."""
        c, l2_dst = self.counters, hp.data[:6]
        out = self.ifaces[route.port]
        res = process_options(hdr, out_addr=out.ip, router_addrs=self.router_addrs, now_ms=int(self.r.now_ns // 1e6))
        if res.problem is not None:
            c.add("options.param_problem")
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
        dst = bytes(hdr[16:20])
        nh = ip_bytes(route.next_hop) if route.next_hop else dst
        if (not no_redirect and route.port == hp.in_port and hp.src == 0 and nh != ip.src
                and self.ifaces[hp.in_port].contains(ip.src) and self.ifaces[hp.in_port].contains(nh)):
            self._redirect_about(hp, ip, nh)
        for p in pieces:
            self._emit(p, route.port, nh, route.mac, route.qid or self.cfg.host_qid, orig=ip, in_port=hp.in_port,
                       l2_dst=l2_dst)

    def _redirect_about(self, hp: "HostPacket", ip: IPv4, nh: bytes) -> None:
        if not self.cfg.redirects:
            self.counters.add("icmp.redirects_off")
            return
        self.icmp_error(ip, hp.in_port, 5, 1, rest=nh, l2_dst=hp.data[:6])

    # ------------------------------------------------------------------ local delivery
    def _local(self, hp: "HostPacket", ip: IPv4) -> None:
        c = self.counters
        if self._martian(ip):
            return
        if ip.is_fragment:
            whole = self.reasm.add(ip, hp.in_port, self.r.now_ns)
            if whole is None:
                return
            ip = whole
            hp = dataclasses.replace(hp, data=hp.data[:14] + whole.raw)
        sr = source_route(ip.header) if ip.ihl > 5 else None
        if sr is not None:
            if not self._source_route_allowed(hp, ip):
                return
            if not sr.exhausted:
                self._follow_source_route(hp, ip, sr)
                return
        bcast = self._is_broadcast(ip.dst) or bool(hp.data[0] & 1)
        dport = None
        if ip.proto in (6, 17) and len(ip.payload) >= 4:
            dport = int.from_bytes(ip.payload[2:4], "big")
        fn = self.local_handlers.get((ip.proto, dport)) or self.local_handlers.get((ip.proto, None))
        if fn is not None and fn(self, hp):
            c.add("local.claimed")
            return
        if ip.proto == 1:
            self._local_icmp(ip, bcast, sr, hp.in_port)
            return
        if bcast:
            c.add("local.broadcast_drops")
            return
        if ip.proto == 17:
            self.icmp_error(ip, hp.in_port, 3, 3, l2_dst=hp.data[:6])
        elif ip.proto == 6:
            seg = tcp_rst(ip)
            if seg is not None:
                self.originate(ipv4_header(src=ip.dst, dst=ip.src, proto=6, payload_len=len(seg),
                                           ident=self.next_ip_id(), ttl=self.cfg.icmp_ttl) + seg)
                c.add("tcp.resets_sent")
        else:
            self.icmp_error(ip, hp.in_port, 3, 2, l2_dst=hp.data[:6])

    def _local_icmp(self, ip: IPv4, bcast: bool, sr: SourceRoute | None = None, in_port: int = 0) -> None:
        c = self.counters
        m = ip.payload
        if len(m) < 8 or checksum(m) != 0:
            c.add("icmp.bad_checksum")            # RFC 1122 3.2.2: silently discarded
            return
        if m[0] == 17 and m[1] == 0 and len(m) >= 12 and self.cfg.address_mask_reply:
            self._address_mask_reply(ip, in_port)
            return
        if m[0] != 8:
            c.add("local.icmp_consumed")          # replies, redirects, source quench, unknown types: 4.3.2.1
            return
        if not self.cfg.answer_echo:
            c.add("icmp.echo_ignored")            # RFC 1812 4.3.3.6: the operator's option
            return
        if bcast:
            c.add("icmp.echo_broadcast_ignored")  # RFC 1122 3.2.2.6 MAY; as Linux's default
            return
        reply = icmp_packet(0, 0, m[4:8], m[8:])
        # RFC 1122 3.2.2.6: source = the address the request was sent to; TOS kept (RFC 1812 4.3.2.5);
        # Record Route and Timestamp options updated and returned, a source route reversed
        dst, opts = ip.src, b""
        if ip.ihl > 5:
            if sr is not None:
                opts, dst = reverse_source_route(ip.header, sr, ip.src)
            opts = pad_options(opts + echo_options(ip.header))
        hdr = bytearray(ipv4_header(src=ip.dst, dst=dst, proto=1, payload_len=len(reply), ident=self.next_ip_id(),
                                    ttl=self.cfg.icmp_ttl, tos=ip.tos, options=opts))
        if opts:
            route = self.rib.lookup(dst)
            if route is not None and route.port is not None and not route.local:
                res = process_options(hdr, out_addr=self.ifaces[route.port].ip, router_addrs=self.router_addrs,
                                      now_ms=int(self.r.now_ns // 1e6))
                if res.problem is not None:          # a malformed option in the request: reply without options
                    hdr = bytearray(ipv4_header(src=ip.dst, dst=ip.src, proto=1, payload_len=len(reply),
                                                ident=hdr[4] << 8 | hdr[5], ttl=self.cfg.icmp_ttl, tos=ip.tos))
                else:
                    c.add("icmp.echo_options")
            set_ipv4_checksum(hdr)
        self.originate(bytes(hdr) + reply)
        c.add("icmp.echo_replies")

    def _address_mask_reply(self, ip: IPv4, in_port: int) -> None:
        """RFC 1812 4.3.3.9, RFC 950: the receiving interface's mask, same
        identifier and sequence number; to the limited broadcast on that port
        when the request came from 0.0.0.0 (RFC 1122 3.2.2.9), else routed."""
        itf = self.ifaces[in_port]
        m = ip.payload
        reply = icmp_packet(18, 0, m[4:8], itf.itf.network.netmask.packed)
        if ip.src == b"\0\0\0\0":
            hdr = ipv4_header(src=itf.ip, dst=b"\xff\xff\xff\xff", proto=1, payload_len=len(reply),
                              ident=self.next_ip_id(), ttl=self.cfg.icmp_ttl, tos=ip.tos)
            self.send_frame(in_port, ether(BROADCAST_MAC, itf.mac, ETH_IPV4, hdr + reply))
        else:
            self.originate(ipv4_header(src=itf.ip, dst=ip.src, proto=1, payload_len=len(reply),
                                       ident=self.next_ip_id(), ttl=self.cfg.icmp_ttl, tos=ip.tos) + reply)
        self.counters.add("icmp.address_mask_replies")

    def _reasm_timeout(self, first: IPv4 | None, in_port: int) -> None:
        """RFC 1122 3.3.2: time exceeded, reassembly (11/1), if fragment zero came."""
        if first is not None:
            self.icmp_error(first, in_port, 11, 1)

    # ------------------------------------------------------------------ ICMP errors
    def _is_broadcast(self, a: bytes) -> bool:
        if a == b"\xff\xff\xff\xff" or 224 <= a[0] <= 239:
            return True
        return any(i.itf.network.prefixlen < 31 and a == i.broadcast for i in self.ifaces)

    def icmp_error(self, orig: IPv4, in_port: int, icmp_type: int, code: int, *, rest: bytes = b"\0\0\0\0",
                   l2_dst: bytes = b"") -> bool:
        """Send an ICMP error about ``orig`` (received on ``in_port``) unless
        RFC 1812 4.3.2.7 forbids it, no route leads back to its source, or the
        rate limit refuses; True if sent.

        The source address is the address of the interface the error leaves
        by (4.3.2.4), found by routing the error to ``orig``'s source with the
        RIB; the error quotes as much of ``orig`` (Total Length bytes, never
        link padding) as fits in ``icmp_error_len`` bytes (4.3.2.3), at least
        its header and 8 bytes of data (RFC 792)."""
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
        route = self._route_out(s)
        if route is None:
            c.add("icmp.no_route_back")
            return False
        if not self._bucket.take(self.r.now_ns):
            c.add("icmp.rate_limited")
            return False
        quote = orig.raw[:max(orig.ihl * 4 + 8, self.cfg.icmp_error_len - _IP_HDR - _ICMP_HDR)]
        body = icmp_packet(icmp_type, code, rest, quote)
        self.originate(ipv4_header(src=self.ifaces[route.port].ip, dst=s, proto=1, payload_len=len(body),
                                   ident=self.next_ip_id(), ttl=self.cfg.icmp_ttl, tos=0xC0) + body)
        c.add(f"icmp.{_ICMP_NAMES[(icmp_type, code)]}")
        return True

    def _route_out(self, dst: bytes) -> Route | None:
        """The RIB route a datagram the host originates to ``dst`` takes, if usable."""
        route = self.rib.lookup(dst)
        if route is None or route.local or route.multicast_ports or route.port is None \
                or (route.next_hop == "0.0.0.0" and route.mac is None):
            return None
        return route

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
        # the reserved flag is copied into every fragment with DF (RFC 1812 5.2.5)
        h[6:8] = ((ff & 0xC000) | (mf if last else 0x2000) | (base_off + pos // 8)).to_bytes(2, "big")
        set_ipv4_checksum(h)
        out.append(bytes(h) + chunk)
        pos += len(chunk)
    return out

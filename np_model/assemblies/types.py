"""Values the NPR's API takes and returns: port settings, filter actions,
packet records, the conservation account, address conversions."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..core import lib

__all__ = ["PortConfig", "default_ports", "TxPacket", "HostPacket", "Conservation", "ConservationError",
           "FilterAction", "mac_to_int", "int_to_mac", "ip_to_int", "NIC_META", "encode_qid", "decode_qid"]

NIC_META = 1 << 31          # a packet's metadata came from the NIC front-end (pool << 8 | queue)


# ------------------------------------------------------------------------------------------
# small conversions


def mac_to_int(mac: str | int) -> int:
    if isinstance(mac, int):
        return mac
    parts = mac.split(":")
    if len(parts) != 6:
        raise ValueError(f"bad MAC address {mac!r}: expected six hex bytes like 02:00:00:00:00:01")
    return int("".join(parts), 16)


def int_to_mac(v: int) -> str:
    return ":".join(f"{(v >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def ip_to_int(ip: str | int) -> int:
    return ip if isinstance(ip, int) else int(ipaddress.IPv4Address(ip))


QUEUES_PER_PORT = lib.NP_QUEUES_PER_PORT
QID_PORT_SHIFT = lib.NP_QID_PORT_SHIFT


def encode_qid(port: int, qid: int) -> int:
    """The NPR's encoded QID, ``queue | (port + 1) << 13`` [C-code nprd_configuration.cc].

    ``qid`` is a queue of the port (0..8191) or already encoded for that port;
    ports 0..6 can be encoded (16 bits)."""
    if not 0 <= port <= 6:
        raise ValueError(f"port {port} cannot be encoded in a QID (ports 0..6)")
    qid = int(qid)
    if 0 <= qid < QUEUES_PER_PORT:
        return qid | (port + 1) << QID_PORT_SHIFT
    if QUEUES_PER_PORT <= qid <= 0xFFFF:
        if (qid >> QID_PORT_SHIFT) - 1 != port:
            raise ValueError(f"QID 0x{qid:04x} is encoded for port {(qid >> QID_PORT_SHIFT) - 1}, not port {port}")
        return qid
    raise ValueError(f"queue id {qid} out of range: a queue 0..{QUEUES_PER_PORT - 1} or an encoded QID "
                     f"(queue | (port+1) << {QID_PORT_SHIFT})")


def decode_qid(qid: int) -> tuple[int, int]:
    """(port, queue) of an encoded QID."""
    return (int(qid) >> QID_PORT_SHIFT) - 1, int(qid) & (QUEUES_PER_PORT - 1)


@dataclass(frozen=True)
class PortConfig:
    """One router port: its interface address (with prefix), MAC and rate."""

    address: str                    # e.g. "10.0.1.1/24"
    mac: str
    rate_bps: int = 1_000_000_000
    mtu: int = 1500

    @property
    def interface(self) -> ipaddress.IPv4Interface:
        return ipaddress.IPv4Interface(self.address)


def default_ports(n: int = 5, rate_bps: int = 1_000_000_000, mtu: int = 1500) -> list[PortConfig]:
    """Port i: 10.0.i.1/24, MAC 02:00:00:00:00:0i (i = 1..n on the wire as 0..n-1)."""
    return [PortConfig(f"10.0.{i + 1}.1/24", f"02:00:00:00:00:{i + 1:02x}", rate_bps, mtu) for i in range(n)]


@dataclass(frozen=True)
class TxPacket:
    """A frame the router sent. Times in ns of simulated time."""

    pkt: int
    port: int
    data: bytes
    t_rx_ns: float          # last bit received (or injection time)
    t_start_ns: float       # first bit out
    t_end_ns: float         # last bit out
    copy: bool
    from_host: bool
    qid: int                # the encoded QID it was queued in (queue | (port+1) << 13)
    meta: int = 0

    @property
    def queue(self) -> int:
        """The queue of its port it was sent from (0..8191)."""
        return self.qid & (QUEUES_PER_PORT - 1)

    @property
    def pool(self) -> int | None:
        """The NIC front-end's pool for this packet (None without a NIC)."""
        return (self.meta >> 8) & 0x3F if self.meta & NIC_META else None

    @property
    def nic_queue(self) -> int | None:
        """The queue within its pool the NIC's RSS chose (None without a NIC)."""
        return self.meta & 0xFF if self.meta & NIC_META else None

    @property
    def latency_ns(self) -> float:
        """Store-and-forward latency (RFC 1242): last bit in to first bit out."""
        return self.t_start_ns - self.t_rx_ns


@dataclass(frozen=True)
class HostPacket:
    """A packet the control processor handed to the host (exception or local)."""

    pkt: int
    reason: str
    data: bytes
    in_port: int
    out_port: int
    nh_ip: str
    t_rx_ns: float
    t_host_ns: float
    ptag: int
    src: int
    reasons: tuple[str, ...] = ()     # every exception bit set (and the model's extension reason)
    qid: int = 0


class ConservationError(AssertionError):
    """Packets were created or lost without being accounted for."""


@dataclass(frozen=True)
class Conservation:
    """Every packet ends exactly once: transmitted, to the host, or dropped."""

    arrived: int
    injected: int
    copies: int
    created: int                # by plug-ins
    transmitted: int
    to_host: int
    dropped: int
    in_flight: int              # counted independently, by scanning buffers
    double_ends: int

    @property
    def ok(self) -> bool:
        return (self.arrived + self.injected + self.copies + self.created
                == self.transmitted + self.to_host + self.dropped + self.in_flight
                and self.double_ends == 0)

    def __str__(self) -> str:
        return (f"arrived {self.arrived} + injected {self.injected} + copies {self.copies} + created "
                f"{self.created} = "
                f"transmitted {self.transmitted} + to host {self.to_host} + dropped {self.dropped} "
                f"+ in flight {self.in_flight}" + ("" if self.ok else "  <-- VIOLATED"))


@dataclass(frozen=True)
class FilterAction:
    """What a filter does: ``queue`` (to port/qid), ``drop``, ``plugin``,
    ``multicast`` (ports), or ``host`` (to the control processor)."""

    kind: str = "queue"
    port: int = 0
    qid: int = 0
    plugin: int = 0
    ports: tuple[int, ...] = ()
    next_hop: str | None = None
    mac: str | None = None
    stats: int = 0

    KINDS = {"queue": lib.NP_FA_QUEUE, "drop": lib.NP_FA_DROP, "plugin": lib.NP_FA_PLUGIN,
             "multicast": lib.NP_FA_MCAST, "host": lib.NP_FA_XSCALE}

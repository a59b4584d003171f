"""Traffic: IPv4/UDP frames built in bulk with numpy, timed at a given load.

The simulator can forward hundreds of thousands of packets per wall
second, so the traffic source must not build packets one by one: frames of
one size are rows of a byte matrix cut from a template, with addresses,
ports and the IPv4 header checksum filled in vectorially.

``Stream`` describes one flow aggregate (input port, destination subnet,
frame sizes, offered load); ``build`` turns a list of streams into the
arrays ``NPR.feed_arrays`` takes, sorted per port by arrival time.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .timebase import ns_to_cycles

__all__ = ["Stream", "Batch", "build", "ipv4_checksum", "wire_bytes", "IMIX"]

ETH_HDR = 14
IP_HDR = 20
UDP_HDR = 8
MIN_FRAME = 60            # without FCS
IMIX = ((60, 7), (590, 4), (1514, 1))   # simple IMIX, sizes without FCS (64/594/1518 on the wire)


def wire_bytes(frame_len: int | np.ndarray, fcs: int = 4, overhead: int = 20, min_frame: int = 64):
    """Bytes a frame occupies on an Ethernet wire (FCS, padding, preamble, IFG)."""
    return np.maximum(np.asarray(frame_len) + fcs, min_frame) + overhead


def ipv4_checksum(hdr: np.ndarray) -> np.ndarray:
    """Header checksums (RFC 791) of the rows of an (n, 20) uint8 array."""
    words = hdr[:, 0::2].astype(np.uint32) << 8 | hdr[:, 1::2].astype(np.uint32)
    s = words.sum(axis=1)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return (~s & 0xFFFF).astype(np.uint16)


@dataclass(frozen=True)
class Stream:
    """Frames offered on one input port toward one destination subnet.

    Args:
        port: input port.
        dst_net: destination prefix; addresses are drawn uniformly from it
            (avoiding the network's first two and last addresses).
        src_net: source prefix (drawn likewise).
        dst_mac: the router port's MAC (frames are addressed to the router).
        load: fraction of the input wire's capacity (0..1].
        sizes: frame sizes (without FCS) and their weights.
        ttl, tos: IPv4 fields; ``bad_checksum`` corrupts that fraction.
        flows: number of distinct (src, dst, sport, dport) flows.
    """

    port: int
    dst_net: str
    src_net: str
    dst_mac: str
    load: float = 1.0
    sizes: Sequence[tuple[int, float]] = ((60, 1.0),)
    ttl: int = 64
    tos: int = 0
    bad_checksum: float = 0.0
    flows: int = 64
    src_mac: str = "02:00:00:00:99:01"


@dataclass
class Batch:
    """Arrays for ``NPR.feed_arrays``: per-port time order, one data blob."""

    t_cycles: np.ndarray
    ports: np.ndarray
    lens: np.ndarray
    offsets: np.ndarray
    data: np.ndarray
    end_cycle: int = 0
    streams: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.t_cycles)


def _hosts(net: str, n: int, rng: np.random.Generator) -> np.ndarray:
    nw = ipaddress.IPv4Network(net, strict=False)
    base, size = int(nw.network_address), nw.num_addresses
    if size <= 4:
        return np.full(n, base + (1 if size > 1 else 0), dtype=np.uint32)
    return (base + 2 + rng.integers(0, size - 3, n)).astype(np.uint32)


def _mac_bytes(mac: str) -> np.ndarray:
    return np.array([int(b, 16) for b in mac.split(":")], dtype=np.uint8)


def _frames(s: Stream, lens: np.ndarray, rng: np.random.Generator,
            first_ipid: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(positions, (n, L) byte matrix) for each distinct frame length."""
    out = []
    flow_src = _hosts(s.src_net, s.flows, rng)
    flow_dst = _hosts(s.dst_net, s.flows, rng)
    flow_sp = rng.integers(1024, 65535, s.flows).astype(np.uint16)
    flow_dp = rng.integers(1, 65535, s.flows).astype(np.uint16)
    for L in np.unique(lens):
        idx = np.nonzero(lens == L)[0]
        n = len(idx)
        f = np.zeros((n, int(L)), dtype=np.uint8)
        f[:, 0:6] = _mac_bytes(s.dst_mac)
        f[:, 6:12] = _mac_bytes(s.src_mac)
        f[:, 12], f[:, 13] = 0x08, 0x00
        ip = f[:, ETH_HDR:ETH_HDR + IP_HDR]
        tot = int(L) - ETH_HDR
        ip[:, 0] = 0x45
        ip[:, 1] = s.tos
        ip[:, 2], ip[:, 3] = tot >> 8, tot & 0xFF
        ipid = (first_ipid + idx) & 0xFFFF
        ip[:, 4], ip[:, 5] = ipid >> 8, ipid & 0xFF
        ip[:, 8] = s.ttl
        ip[:, 9] = 17
        fl = rng.integers(0, s.flows, n)
        for k, arr in ((12, flow_src[fl]), (16, flow_dst[fl])):
            for b in range(4):
                ip[:, k + b] = (arr >> (24 - 8 * b)) & 0xFF
        ck = ipv4_checksum(ip)
        if s.bad_checksum:
            bad = rng.random(n) < s.bad_checksum
            ck = np.where(bad, ck ^ 0x5A5A, ck)
        ip[:, 10], ip[:, 11] = ck >> 8, ck & 0xFF
        udp = f[:, ETH_HDR + IP_HDR:ETH_HDR + IP_HDR + UDP_HDR]
        ulen = tot - IP_HDR
        udp[:, 0], udp[:, 1] = flow_sp[fl] >> 8, flow_sp[fl] & 0xFF
        udp[:, 2], udp[:, 3] = flow_dp[fl] >> 8, flow_dp[fl] & 0xFF
        udp[:, 4], udp[:, 5] = ulen >> 8, ulen & 0xFF      # checksum 0: none (RFC 768)
        out.append((idx, f))
    return out


def build(streams: Sequence[Stream], duration_ns: float, *, start_ns: float = 0.0, f_me_hz: int = 1_400_000_000,
          rate_bps: Sequence[int] | int = 1_000_000_000, seed: int = 1, first_ipid: int = 0) -> Batch:
    """Frames of every stream over [start, start + duration), at each stream's load.

    Arrivals of a stream are evenly spaced so that its frames occupy
    ``load`` of the input wire; streams sharing a port are merged in time.
    """
    rng = np.random.default_rng(seed)
    rates = [rate_bps] * (max((s.port for s in streams), default=0) + 1) if np.isscalar(rate_bps) else list(rate_bps)
    t_all, p_all, l_all, o_all, blobs, sid_all = [], [], [], [], [], []
    base = 0
    for si, s in enumerate(streams):
        if not 0 < s.load <= 1:
            raise ValueError(f"stream {si}: load must be in (0, 1], got {s.load}")
        sizes = np.array([x for x, _ in s.sizes])
        w = np.array([y for _, y in s.sizes], dtype=float)
        w /= w.sum()
        if (sizes < ETH_HDR + IP_HDR + UDP_HDR).any():
            raise ValueError(f"stream {si}: frames must be at least {ETH_HDR + IP_HDR + UDP_HDR} bytes")
        mean_wire = float((wire_bytes(sizes) * w).sum())
        pps = s.load * rates[s.port] / (8 * mean_wire)
        n = int(duration_ns * 1e-9 * pps)
        if n == 0:
            continue
        lens = rng.choice(sizes, n, p=w)
        # spacing follows each frame's own wire time, scaled by the load
        gap_ns = wire_bytes(lens) * 8 / rates[s.port] * 1e9 / s.load
        t_ns = start_ns + np.concatenate(([0.0], np.cumsum(gap_ns[:-1])))
        keep = t_ns < start_ns + duration_ns
        lens, t_ns = lens[keep], t_ns[keep]
        offs = np.zeros(len(lens), dtype=np.int64)
        offs[1:] = np.cumsum(lens[:-1])
        blob = np.empty(int(lens.sum()), dtype=np.uint8)
        for idx, f in _frames(s, lens, rng, first_ipid):
            blob[offs[idx][:, None] + np.arange(f.shape[1])[None, :]] = f
        t_all.append(ns_to_cycles(t_ns, f_me_hz))
        p_all.append(np.full(len(lens), s.port, dtype=np.uint8))
        l_all.append(lens.astype(np.uint32))
        o_all.append((offs + base).astype(np.uint64))
        blobs.append(blob)
        base += len(blob)
        sid_all.append(np.full(len(lens), si))
    if not t_all:
        z = np.zeros(0, dtype=np.uint64)
        return Batch(z, z.astype(np.uint8), z.astype(np.uint32), z, np.zeros(0, dtype=np.uint8))
    t, p = np.concatenate(t_all), np.concatenate(p_all)
    order = np.lexsort((t, p))                     # per port, by time (frames may stay where they are)
    data = np.concatenate(blobs)
    end = ns_to_cycles(start_ns + duration_ns, f_me_hz)
    return Batch(t[order], p[order], np.concatenate(l_all)[order], np.concatenate(o_all)[order], data, end,
                 list(np.concatenate(sid_all)[order]))

"""Per-frame classification result and its sideband (``m_axis_tuser``) encoding."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "VmdqResult",
    "REASONS",
    "REASON_CODES",
    "HASH_TYPES",
    "HASH_NONE",
    "HASH_IPV4_TCP",
    "HASH_IPV4",
    "HASH_IPV6_TCP",
    "HASH_IPV6",
    "HASH_IPV4_UDP",
    "HASH_IPV6_UDP",
    "user_width",
    "pack_tuser",
    "unpack_tuser",
]

# Drop reasons; the index is the 3-bit code on tuser[2:0].
REASONS: tuple[str | None, ...] = (
    None,             # 0: not dropped
    "runt",           # 1: shorter than RUNT_LEN (or than an Ethernet header)
    "vlan_filter",    # 2: tagged and its VLAN is off in the global VFTA (VLNCTRL.VFE = 1)
    "no_pool",        # 3: no MAC filter / hash / promiscuous pool admits it, no default pool
    "pool_vlan",      # 4: MAC stage admitted pools, their per-pool VLAN filters did not
    "pool_disabled",  # 5: every admitting pool has its receive disabled (VFRE)
)
REASON_CODES: dict[str | None, int] = {name: code for code, name in enumerate(REASONS)}

# RSS hash types, with the 82599 advanced receive descriptor's RSS Type encoding.
HASH_NONE = 0
HASH_IPV4_TCP = 1
HASH_IPV4 = 2
HASH_IPV6_TCP = 3
HASH_IPV6 = 5
HASH_IPV4_UDP = 7
HASH_IPV6_UDP = 8
HASH_TYPES: dict[int, str] = {
    HASH_NONE: "none",
    HASH_IPV4_TCP: "ipv4_tcp",
    HASH_IPV4: "ipv4",
    HASH_IPV6_TCP: "ipv6_tcp",
    HASH_IPV6: "ipv6",
    HASH_IPV4_UDP: "ipv4_udp",
    HASH_IPV6_UDP: "ipv6_udp",
}


@dataclass(frozen=True)
class VmdqResult:
    """Where the NIC front-end sends one received frame.

    Attributes:
        pools: bitmap of destination pools (several bits = replication); 0 when dropped.
        queue: queue index within each destination pool (RSS redirection table);
            0 when RSS does not apply.
        rss_hash: 32-bit Toeplitz hash, 0 when the frame was not hashed.
        hash_type: which fields were hashed, in the 82599 descriptor encoding
            (0 none, 1 IPv4/TCP, 2 IPv4, 3 IPv6/TCP, 5 IPv6, 7 IPv4/UDP, 8 IPv6/UDP);
            see :data:`HASH_TYPES`.
        drop: the frame is discarded.
        reason: named drop reason (one of :data:`REASONS`), None when not dropped.
        queues_per_pool: queues in each pool (2, 4 or 8), for :meth:`abs_queue`.
    """

    pools: int
    queue: int
    rss_hash: int
    hash_type: int
    drop: bool
    reason: str | None
    queues_per_pool: int = 4

    def abs_queue(self, pool: int) -> int:
        """Absolute receive queue (0..127) of this frame's copy in ``pool``."""
        num_pools = 128 // self.queues_per_pool
        if not 0 <= pool < num_pools:
            raise ValueError(f"pool {pool} out of range 0..{num_pools - 1}")
        return pool * self.queues_per_pool + self.queue

    def pool_list(self) -> list[int]:
        """Destination pools in increasing order."""
        return [p for p in range(self.pools.bit_length()) if self.pools >> p & 1]

    def key(self) -> tuple[int, int, int, int, bool, str | None]:
        """Fields compared between backends (everything but the mode constant)."""
        return (self.pools, self.queue, self.rss_hash, self.hash_type, self.drop, self.reason)


def user_width(num_pools: int) -> int:
    """Width of ``m_axis_tuser`` for ``num_pools`` pools."""
    return 43 + num_pools


def pack_tuser(result: VmdqResult) -> int:
    """Encode a result as the RTL's ``m_axis_tuser`` value."""
    return (REASON_CODES[result.reason]
            | int(result.drop) << 3
            | result.hash_type << 4
            | result.rss_hash << 8
            | result.queue << 40
            | result.pools << 43)


def unpack_tuser(tuser: int, queues_per_pool: int) -> VmdqResult:
    """Decode the RTL's ``m_axis_tuser`` value."""
    code = tuser & 0x7
    if code >= len(REASONS):
        raise ValueError(f"invalid drop reason code {code} in tuser {tuser:#x}")
    return VmdqResult(
        pools=tuser >> 43,
        queue=(tuser >> 40) & 0x7,
        rss_hash=(tuser >> 8) & 0xFFFF_FFFF,
        hash_type=(tuser >> 4) & 0xF,
        drop=bool(tuser >> 3 & 1),
        reason=REASONS[code],
        queues_per_pool=queues_per_pool,
    )

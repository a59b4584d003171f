"""One validation schema: the range of every value a user gives the NPR.

The router's Python API (``np_model.assemblies.NPR``), the control plane
(``host.control``) and the configuration file (``host.config``) all check
their inputs against these ranges, so a value is accepted or refused the same
way whichever door it comes through, with the same words. Ranges that
depend on the hardware are read from the profile (``npr_limits(profile)``).

    >>> L = npr_limits(IXP2800)
    >>> L["route_priority"].check(61)
    Traceback (most recent call last):
    ValueError: route priority must be an integer 0..60, got 61

Sources: ``../shared/reference/npr_capacities.md`` (RLI, nprd configuration).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .profile import IXP2800, Profile

__all__ = ["Limit", "npr_limits", "port_rate_limit", "MTU_MIN", "PLUGIN_MSG_MAX"]

MTU_MIN = 68                      # RFC 791: every internet module forwards 68-byte datagrams
PLUGIN_MSG_MAX = 28               # NPR-msg: a control message is about 28 characters


@dataclass(frozen=True)
class Limit:
    """An inclusive integer range with the words used to refuse a value outside it."""

    what: str                     # "route priority"
    lo: int
    hi: int
    unit: str = ""                # " bytes", " Kb/s", ...
    source: str = ""

    @property
    def range(self) -> tuple[int, int]:
        return self.lo, self.hi

    def message(self, v: Any, what: str | None = None) -> str:
        return f"{what or self.what} must be an integer {self.lo}..{self.hi}{self.unit}, got {v!r}"

    def check(self, v: Any, what: str | None = None) -> int:
        """``v`` as an int; ValueError (naming ``what`` and the range) if it is not
        an integer within the range. Booleans are not integers here."""
        if isinstance(v, bool) or not isinstance(v, int) and not (hasattr(v, "__index__")):
            raise ValueError(self.message(v, what))
        iv = int(v)
        if not self.lo <= iv <= self.hi:
            raise ValueError(self.message(v, what))
        return iv


def npr_limits(profile: Profile = IXP2800) -> dict[str, Limit]:
    """Every NPR input range, for this hardware profile: name -> Limit."""
    from .core import lib                 # the core's buffer size bounds the MTU

    v = profile.value
    max_frame = int(lib.NP_MAX_FRAME)
    return {
        "ports": Limit("number of ports", 1, 5, source="NPR: 5 x 1 GbE"),
        "route_priority": Limit("route priority", 0, 60, source="RLI-NPR: route priority 0-60"),
        "filter_priority": Limit("filter priority", 0, 63, source="npr_tcam.ini: 64 priority classes"),
        "queue_id": Limit("queue id", 0, 8191, source="QID = queue | (port+1) << 13 [nprd_configuration.cc]"),
        "stats_index": Limit("stats index", 0, int(v("stats.blocks")) - 1, source="profile stats.blocks"),
        "plugin_tag": Limit("plug-in tag", 0, 31, source="5-bit ptag in the route and filter keys"),
        "plugin_me": Limit("plug-in ME", 0, int(v("plugin_mes")) - 1, source="profile plugin_mes"),
        "protocol": Limit("protocol", 0, 255),
        "l4_port": Limit("port number", 0, 65535),
        "tcp_flags": Limit("tcp_flags", 0, 0xFFF, source="12-bit tcp_flags in the filter key"),
        "queue_threshold": Limit("queue threshold", 1, 0xFFFFFFFF, " bytes"),
        "queue_quantum": Limit("queue quantum", 1, 0xFFFFFF, " bytes"),
        "mtu": Limit("MTU", MTU_MIN, max_frame - 18, " bytes",
                     source=f"RFC 791 minimum .. the core's {max_frame}-byte buffers less an 802.1Q-tagged header"),
        "buffers": Limit("packet buffers", 16, int(v("packet_buffers")),
                         source="profile packet_buffers (229,376 descriptors in the NPR)"),
        "port_buffers": Limit("per-port buffer limit", 1, int(v("packet_buffers"))),
        "threads": Limit("threads", 1, int(v("threads_per_me")), source="profile threads_per_me"),
        "xscale_threads": Limit("XScale threads", 1, 2),
        "seed": Limit("seed", 0, 2**31 - 1),
        "plugin_message": Limit("plug-in message length", 0, PLUGIN_MSG_MAX, " characters", source="NPR-msg"),
    }


def port_rate_limit(profile: Profile, port: int, line_rate_bps: int) -> Limit:
    """The QM rates a port accepts, in Kb/s: from one granule (the NPR stores
    rate/683 [C-code]) up to the daemon's default for the port's line rate
    (1,048,576 Kb/s for 1 GbE: above line rate, so the wire sets the pace)."""
    g = int(profile.value("qm_rate_granularity_kbps"))
    hi = int(line_rate_bps) * int(profile.value("qm_default_rate_kbps")) // 1_000_000_000
    return Limit(f"port {port} rate", g, max(g, hi), " Kb/s", source="qm_rate_granularity_kbps, qm_default_rate_kbps")

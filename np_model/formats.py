"""Ring-entry and table-record formats, as the compiled core declares them.

Every format is declared once, in ``np_model/core/formats.h`` (a field list
like scapy's ``fields_desc``): the C side gets its structs and pack/unpack
functions from that declaration, and this module builds the Python encoders
and decoders from the same declaration, read through the core's
``np_format_*`` functions -- so the two cannot disagree.

    >>> from np_model.formats import FORMATS
    >>> FORMATS["mux_plc"].decode([0x0300_0007, ...])
    {'handle': 7, 'out_port': 3, ...}
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .core import ffi, lib

__all__ = ["Field", "Format", "FORMATS", "EXC_BITS", "exc_reason", "exc_reasons"]


@dataclass(frozen=True)
class Field:
    """One field: ``width`` bits at bit ``lsb`` of 32-bit word ``word``."""

    name: str
    word: int
    lsb: int
    width: int

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1


@dataclass(frozen=True)
class Format:
    """A record of ``words`` 32-bit words made of ``fields``."""

    name: str
    doc: str
    words: int
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"format {self.name} has no field {name!r}; valid: {', '.join(f.name for f in self.fields)}")

    def decode(self, words: Sequence[int]) -> dict[str, int]:
        """The fields of one record (``words``: at least ``self.words`` integers)."""
        if len(words) < self.words:
            raise ValueError(f"format {self.name} needs {self.words} words, got {len(words)}")
        return {f.name: (int(words[f.word]) >> f.lsb) & f.mask for f in self.fields}

    def decode_array(self, words) -> dict:
        """Fields of many records at once: ``words`` is an (n, >= self.words) integer
        array; returns name -> numpy array."""
        import numpy as np
        w = np.asarray(words, dtype=np.uint64)
        return {f.name: ((w[:, f.word] >> np.uint64(f.lsb)) & np.uint64(f.mask)).astype(np.int64)
                for f in self.fields}

    def encode(self, **values: int) -> list[int]:
        """The words of a record with these field values (others zero)."""
        names = {f.name for f in self.fields}
        bad = set(values) - names
        if bad:
            raise KeyError(f"format {self.name} has no field {sorted(bad)[0]!r}; valid: {', '.join(sorted(names))}")
        w = [0] * self.words
        for f in self.fields:
            v = int(values.get(f.name, 0))
            if not 0 <= v <= f.mask:
                raise ValueError(f"{self.name}.{f.name} = {v} does not fit in {f.width} bits")
            w[f.word] |= v << f.lsb
        return w


def _load() -> dict[str, Format]:
    out = {}
    for i in range(lib.np_n_formats()):
        fields = []
        for k in range(lib.np_format_nfields(i)):
            d = lib.np_format_field(i, k)
            fields.append(Field(ffi.string(d.name).decode(), d.word, d.lsb, d.width))
        name = ffi.string(lib.np_format_name(i)).decode()
        out[name] = Format(name, ffi.string(lib.np_format_doc(i)).decode(), lib.np_format_words(i), tuple(fields))
    return out


#: every format the core declares, by name
FORMATS: Mapping[str, Format] = _load()

#: the NPR's exception bits in the exc format's flags byte [C DeHart-rings]
EXC_BITS = ("ttl_expired", "ip_options", "no_route", "non_ip", "arp_needed", "nh_invalid")


def exc_reasons(entry: Mapping[str, int], ext_names: Sequence[str]) -> list[str]:
    """Every reason an exc entry gives: its exception bits, then its extension code.

    ``ext_names``: the names of the extension codes 1, 2, ... (the core's
    exception reasons after the six bits)."""
    out = [name for b, name in enumerate(EXC_BITS) if entry["exc_bits"] >> b & 1]
    if entry["ext"] and entry["ext"] <= len(ext_names):
        out.append(ext_names[entry["ext"] - 1])
    return out


def exc_reason(entry: Mapping[str, int], ext_names: Sequence[str]) -> str:
    """The primary reason (the lowest exception bit, else the extension code)."""
    r = exc_reasons(entry, ext_names)
    return r[0] if r else "none"


def check_layouts(formats: Iterable[Format] | None = None) -> None:
    """Raise if a format's fields overlap or leave their words (a self-check)."""
    for fmt in formats or FORMATS.values():
        used = [0] * fmt.words
        for f in fmt.fields:
            if not (0 <= f.word < fmt.words and 0 <= f.lsb and f.lsb + f.width <= 32 and f.width > 0):
                raise ValueError(f"{fmt.name}.{f.name} does not fit in word {f.word}")
            m = f.mask << f.lsb
            if used[f.word] & m:
                raise ValueError(f"{fmt.name}.{f.name} overlaps another field")
            used[f.word] |= m

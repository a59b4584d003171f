"""SPP code options: building them and reading what they declare.

A code option is one C file written against ``plugins/include/code_option.h``
(``copt_parse``, ``copt_hf``, optionally ``copt_init``). It is built exactly
like a plug-in (np_model.plugin_loader: gcc with basic-block
instrumentation, a content-hash cache, the ME's local-memory and
control-store limits, no load-time code), linked with the code-option stub
(``plugins/runtime/copt_stub.c``) instead of the plug-in one, and runs in the
same kind of worker process. Its source declares, as string literals,

* ``COPT_KEY("name:bits ...")``: the fields of its 128-bit lookup key, most
  significant first -- what NPE filters name (``key_value_mask``);
* ``COPT_REASONS("code:name ...")``: names of the codes it gives
  ``copt_exception`` and ``copt_drop`` (optional).

Shipped code options live in ``plugins/code_options/`` and can be named by
their stem (``"ipv4"``, ``"i3"``).
"""
from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .plugin_loader import CONTROL_STORE, LOCAL_MEMORY_BYTES, PLUGIN_DIR, PluginBuild, PluginCompileError, build

__all__ = ["CODE_OPTION_DIR", "COPT_STUB", "KEY_BITS", "KeyField", "CodeOption", "shipped", "resolve",
           "build_code_option", "parse_declarations"]

CODE_OPTION_DIR = PLUGIN_DIR / "code_options"
COPT_STUB = PLUGIN_DIR / "runtime" / "copt_stub.c"
KEY_BITS = 128


@dataclass(frozen=True)
class KeyField:
    """One field of a code option's key: ``width`` bits starting ``offset`` bits
    below the key's most significant bit."""

    name: str
    width: int
    offset: int


@dataclass(frozen=True)
class CodeOption:
    """A built code option: its build, key fields and reason names."""

    name: str
    source: Path
    build: PluginBuild
    key: tuple[KeyField, ...]
    reasons: Mapping[int, str] = field(default_factory=dict)

    def field(self, name: str) -> KeyField:
        for f in self.key:
            if f.name == name:
                return f
        raise KeyError(f"code option {self.name!r} has no key field {name!r}; valid: "
                       f"{', '.join(f.name for f in self.key)}")

    def reason(self, code: int) -> str:
        """The name of a code the code option gave (``code<n>`` if it declared none)."""
        return self.reasons.get(int(code), f"code{int(code)}")

    def key_value_mask(self, key: Mapping[str, Any]) -> tuple[int, int, int]:
        """A filter's key as (value, mask, bits specified) over the 128-bit key.

        Each named field is: an int (exact); a string -- an IPv4 address for a
        32-bit field, optionally with ``/prefix``, a decimal or ``0x`` hex
        number optionally with ``/prefix`` (the field's leading bits); bytes
        (exact if as wide as the field, else that many leading bytes); a pair
        ``(value, prefix_len)``; a mapping ``{"value": v, "mask": m}``; or
        None (any). Fields not named match anything."""
        value = mask = bits = 0
        for name, spec in key.items():
            f = self.field(name)
            v, m = _field_value_mask(self.name, f, spec)
            shift = KEY_BITS - f.offset - f.width
            value |= v << shift
            mask |= m << shift
            bits += bin(m).count("1")
        return value, mask, bits


def shipped() -> dict[str, Path]:
    """The code options shipped in plugins/code_options/, by name."""
    return {p.stem: p for p in sorted(CODE_OPTION_DIR.glob("*.c"))}


def resolve(source: str | os.PathLike) -> Path:
    """A path to a C file, or the name of a shipped code option."""
    p = Path(source)
    if p.suffix == ".c" or os.sep in str(source):
        if not p.is_file():
            raise FileNotFoundError(f"code option source {p} does not exist")
        return p.resolve()
    names = shipped()
    if str(source) in names:
        return names[str(source)]
    raise ValueError(f"unknown code option {str(source)!r}: give a .c file or one of {', '.join(names)}")


_KEY = re.compile(r'\bCOPT_KEY\s*\(\s*"([^"]*)"\s*\)')
_REASONS = re.compile(r'\bCOPT_REASONS\s*\(\s*"([^"]*)"\s*\)')
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _line(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def parse_declarations(src: Path) -> tuple[tuple[KeyField, ...], dict[int, str]]:
    """The key fields and reason names a code option's source declares."""
    text = src.read_text(errors="replace")
    keys = list(_KEY.finditer(text))
    if len(keys) != 1:
        raise PluginCompileError(f"{src}: a code option declares its key once, as COPT_KEY(\"name:bits ...\") "
                                 f"with a string literal (found {len(keys)})")
    where = f"{src}:{_line(text, keys[0].start())}"
    fields: list[KeyField] = []
    off = 0
    for item in keys[0].group(1).split():
        name, _, w = item.partition(":")
        if not _IDENT.match(name) or not w.isdigit() or not 1 <= int(w) <= KEY_BITS:
            raise PluginCompileError(f"{where}: key field {item!r} is not name:bits (bits 1..{KEY_BITS})")
        if any(f.name == name for f in fields):
            raise PluginCompileError(f"{where}: key field {name!r} is declared twice")
        fields.append(KeyField(name, int(w), off))
        off += int(w)
    if not fields or off > KEY_BITS:
        raise PluginCompileError(f"{where}: the key has {off} bits; it must have 1..{KEY_BITS}")
    reasons: dict[int, str] = {}
    rs = list(_REASONS.finditer(text))
    if len(rs) > 1:
        raise PluginCompileError(f"{src}:{_line(text, rs[1].start())}: COPT_REASONS is declared twice")
    for r in rs:
        where = f"{src}:{_line(text, r.start())}"
        for item in r.group(1).split():
            code, _, name = item.partition(":")
            if not code.isdigit() or not 1 <= int(code) <= 255 or not _IDENT.match(name):
                raise PluginCompileError(f"{where}: reason {item!r} is not code:name (code 1..255)")
            if int(code) in reasons or name in reasons.values():
                raise PluginCompileError(f"{where}: reason {item!r} repeats a code or a name")
            reasons[int(code)] = name
    return tuple(fields), reasons


def build_code_option(source: str | os.PathLike, name: str | None = None, *,
                      local_memory_bytes: int = LOCAL_MEMORY_BYTES, control_store: int = CONTROL_STORE) -> CodeOption:
    """Compile (or fetch from the cache) a code option and read its declarations.
    Errors (PluginCompileError, FileNotFoundError, ValueError) name the source."""
    src = resolve(source)
    key, reasons = parse_declarations(src)
    b = build(src, name or src.stem, local_memory_bytes=local_memory_bytes, control_store=control_store,
              stub=COPT_STUB, entries=("copt_parse", "copt_hf"), header="code_option.h")
    return CodeOption(b.name, src, b, key, reasons)


def _field_value_mask(copt: str, f: KeyField, spec: Any) -> tuple[int, int]:
    full = (1 << f.width) - 1
    what = f"code option {copt!r} key field {f.name!r} ({f.width} bits)"
    if spec is None:
        return 0, 0
    plen: int | None = None
    if isinstance(spec, Mapping):
        if set(spec) != {"value", "mask"}:
            raise ValueError(f"{what}: a mapping gives exactly 'value' and 'mask', got {sorted(spec)}")
        v, m = _as_int(what, f, spec["value"]), _as_int(what, f, spec["mask"])
        return v & m, m
    if isinstance(spec, tuple):
        if len(spec) != 2:
            raise ValueError(f"{what}: a pair is (value, prefix_len), got {spec!r}")
        spec, plen = spec
    if isinstance(spec, str) and "/" in spec:
        if plen is not None:
            raise ValueError(f"{what}: give the prefix length once")
        spec, p = spec.split("/", 1)
        if not p.isdigit():
            raise ValueError(f"{what}: bad prefix length {p!r}")
        plen = int(p)
    if isinstance(spec, (bytes, bytearray)) and len(spec) * 8 < f.width:       # leading bytes
        plen = len(spec) * 8 if plen is None else plen
        spec = bytes(spec) + bytes((f.width + 7) // 8 - len(spec))
    v = _as_int(what, f, spec)
    if plen is None:
        return v, full
    if not 0 <= int(plen) <= f.width:
        raise ValueError(f"{what}: prefix length {plen} out of range 0..{f.width}")
    m = full ^ ((1 << (f.width - int(plen))) - 1)
    return v & m, m


def _as_int(what: str, f: KeyField, spec: Any) -> int:
    if isinstance(spec, bool):
        raise ValueError(f"{what}: {spec!r} is not a value")
    if isinstance(spec, int):
        v = spec
    elif isinstance(spec, (bytes, bytearray)):
        if len(spec) * 8 != ((f.width + 7) // 8) * 8:
            raise ValueError(f"{what}: {len(spec)} bytes do not fill the field")
        v = int.from_bytes(spec, "big") >> (len(spec) * 8 - f.width)
    elif isinstance(spec, str):
        s = spec.strip()
        try:
            if f.width == 32 and s.count(".") == 3:
                v = int(ipaddress.IPv4Address(s))
            elif s.lower().startswith("0x"):
                v = int(s, 16)
            else:
                v = int(s, 10)
        except ValueError:
            raise ValueError(f"{what}: {spec!r} is neither an IPv4 address (32-bit fields), a decimal "
                             "nor a 0x hex number") from None
    else:
        raise ValueError(f"{what}: {spec!r} is not an int, string, bytes, (value, prefix_len) or "
                         "{'value', 'mask'}")
    if not 0 <= v < (1 << f.width):
        raise ValueError(f"{what}: {spec!r} does not fit")
    return v

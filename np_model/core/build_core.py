"""cffi build script for the compiled core (run by setup.py at install time).

The core is C because the event loop, the threads, rings and memory
channels and the NPR microcode run per event and per packet: see
npcore_api.h for the split between machine, blocks and engine.
"""
from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
MODULE = "np_model.core._npcore"


def _plugin_include() -> Path:
    """The plug-in API headers (the plug-in ABI is shared with plug-ins): plugins/include of the
    checkout being built, or the package-data copy of an installed wheel."""
    checkout = HERE.parent.parent / "plugins" / "include"
    return checkout if checkout.is_dir() else HERE.parent / "_data" / "plugins" / "include"


PLUGIN_INCLUDE = _plugin_include()


def core_sources() -> list[Path]:
    """Every C source and header of the core, in a stable order."""
    files = (sorted(HERE.glob("*.c")) + sorted(HERE.glob("blocks/*.c")) + sorted(HERE.glob("*.h"))
             + [PLUGIN_INCLUDE / "vrh_plugin_abi.h"])
    return [f for f in files if f.name != "_npcore.c" and f.exists()]


def source_hash() -> str:
    """Hash of the core's sources; compiled in so a stale build is detected."""
    h = hashlib.sha256()
    for f in core_sources():
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def _cdef_text() -> str:
    text = (HERE / "npcore_api.h").read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return text


ffibuilder = FFI()
ffibuilder.cdef(_cdef_text())
_root = HERE.parent.parent
ffibuilder.set_source(
    MODULE,
    '#include "npcore.h"',
    sources=[os.path.relpath(f, _root) for f in core_sources() if f.suffix == ".c"],
    include_dirs=[os.path.relpath(HERE, _root), os.path.relpath(PLUGIN_INCLUDE, _root)],
    libraries=["dl"],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-label",
                        f'-DNPCORE_SRC_HASH="{source_hash()}"'],
)

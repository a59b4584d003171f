"""cffi build script for the compiled core (run by setup.py at install time).

The core is C because the event loop, the threads, rings and memory
channels and the NPR microcode run per event and per packet: see
npcore_api.h for the split between machine, blocks and engine.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from cffi import FFI

HERE = Path(__file__).resolve().parent
MODULE = "np_model.core._npcore"
_src: dict = {"__file__": str(HERE / "_sources.py"), "__name__": "np_model.core._sources"}
exec(compile((HERE / "_sources.py").read_text(), str(HERE / "_sources.py"), "exec"), _src)  # no package import here
core_sources, source_hash, PLUGIN_INCLUDE = _src["core_sources"], _src["source_hash"], _src["PLUGIN_INCLUDE"]


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
    libraries=["dl", "m"],
    extra_compile_args=["-O2", "-std=gnu11", "-Wall", "-Wno-unused-label",
                        f'-DNPCORE_SRC_HASH="{source_hash()}"'],
)

"""The compiled core's source files and their hash (no cffi: cheap to import).

build_core.py compiles the hash into the core; np_model.core compares it with
the sources next to an editable build, so a stale build is refused.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _plugin_include() -> Path:
    """The plug-in API headers (the plug-in ABI is shared with plug-ins): plugins/include of the
    checkout being built, or the package-data copy of an installed wheel (np_model/_data)."""
    checkout = HERE.parent.parent / "plugins" / "include"
    return checkout if checkout.is_dir() else HERE.parent / "_data" / "plugins" / "include"


PLUGIN_INCLUDE = _plugin_include()


def core_sources() -> list[Path]:
    """Every C source and header of the core, in a stable order."""
    files = (sorted(HERE.glob("*.c")) + sorted(HERE.glob("blocks/*.c")) + sorted(HERE.glob("*.h"))
             + sorted(HERE.glob("blocks/*.h")) + sorted(HERE.glob("blocks/*.def"))
             + [PLUGIN_INCLUDE / "vrh_plugin_abi.h", PLUGIN_INCLUDE / "copt_abi.h"])
    return [f for f in files if f.name != "_npcore.c" and f.exists()]


def source_hash() -> str:
    """Hash of the core's sources; compiled in so a stale build is detected."""
    h = hashlib.sha256()
    for f in core_sources():
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]

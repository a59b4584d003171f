"""The compiled core: machine state, NPR microcode and the fast engine.

``ffi`` and ``lib`` are the cffi handles. Importing checks that the
compiled module was built from the sources now in the tree, because an
editable install keeps an old build after the C sources change.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["ffi", "lib", "CoreError"]


class CoreError(ValueError):
    """A request the compiled core refused (a bad value, a full table, ...)."""


try:
    from ._npcore import ffi, lib
except ImportError as exc:  # pragma: no cover - install problem
    raise ImportError(
        "the compiled core np_model.core._npcore is missing: install the project "
        "with `pip install -e .` (it builds the core with the system C compiler)"
    ) from exc


def _check_fresh() -> None:
    from ._sources import core_sources, source_hash

    if not core_sources():  # installed without sources: nothing to compare
        return
    built = ffi.string(lib.np_src_hash()).decode()
    if built != source_hash():
        raise ImportError(
            f"the compiled core ({built}) is older than its sources "
            f"({source_hash()}): rebuild it with `pip install -e .`"
        )


if (Path(__file__).parent / "npcore_api.h").exists():
    _check_fresh()

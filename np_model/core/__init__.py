"""The compiled core: machine state, NPR microcode and the fast engine.

``ffi`` and ``lib`` are the cffi handles. Imported from a source checkout
(an editable install, or the tree on ``sys.path``), it checks that the
compiled module was built from the sources now in the tree, because an
editable install keeps an old build after the C sources change. An
installed wheel is not checked: it carries the build it was made with.
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


def _in_checkout() -> bool:
    """The core sits in a source checkout, next to the sources it must have been built from."""
    from ..resources import source_root

    root = source_root()
    return root is not None and Path(__file__).resolve().parent == root / "np_model" / "core"


if _in_checkout():
    _check_fresh()

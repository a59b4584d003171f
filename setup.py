"""setup.py holds what pyproject.toml cannot spell.

- ``cffi_modules``: cffi's build hook for the compiled core (np_model/core).
- ``build_py``: the top-level ``rtl/`` and ``plugins/`` folders stay the one
  source of truth for the RTL, the plug-in API headers, the runtime stub and
  the shipped plug-ins; a built distribution (``pip wheel .``, ``pip install .``)
  carries copies of them (with the SPP code options, ``plugins/code_options/``)
  as package data under ``np_model/_data/``, where
  ``np_model.resources`` finds them. An editable install adds nothing: it
  reads the top-level folders themselves.
"""
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
# folder -> files copied into np_model/_data/<folder>/ (glob patterns relative to the folder)
PACKAGE_DATA_DIRS = {
    "rtl": ["*.sv", "README.md"],
    "plugins": ["*.c", "include/*.h", "runtime/*.c", "code_options/*.c"],
}


class build_py_with_data(build_py):
    """build_py, then the top-level data folders into the build as np_model/_data/."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        for folder, patterns in PACKAGE_DATA_DIRS.items():
            for pattern in patterns:
                files = sorted((ROOT / folder).glob(pattern))
                if not files:
                    raise FileNotFoundError(f"package data {folder}/{pattern} matches no file under {ROOT}")
                for src in files:
                    dst = Path(self.build_lib) / "np_model" / "_data" / src.relative_to(ROOT)
                    self.mkpath(str(dst.parent))
                    self.copy_file(str(src), str(dst))


setup(cffi_modules=["np_model/core/build_core.py:ffibuilder"],
      cmdclass={"build_py": build_py_with_data})

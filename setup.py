"""Only here because cffi's build hook (``cffi_modules``) has no pyproject.toml spelling."""
from setuptools import setup

setup(cffi_modules=["np_model/core/build_core.py:ffibuilder"])

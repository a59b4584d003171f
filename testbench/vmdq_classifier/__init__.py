"""Testbench of ``rtl/vmdq_classifier.sv``: cocotb tests, directed scenarios, coverage, benchmark."""

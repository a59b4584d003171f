"""Hardware-in-the-loop backends: Verilated RTL driven from Python (pyverilator)."""

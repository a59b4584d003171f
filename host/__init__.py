"""vrouter-hil host side: the control processor's software (slow path and
control plane) and the command-line interface."""

"""vrouter-hil NP model: a cycle-level IXP2800-class network processor.

Layout (the architecture):
  core/     compiled machine, NPR microcode (core/blocks/) and fast engine
  engine/   engines driving the machine (compiled and pure-Python reference)
  assemblies/  assemblies of blocks: the router base class, the NPR, the SPP's line card and NPE
  nic/      SmartNIC front-end (VMDq receive classifier)
  profile   every hardware parameter, with its source
"""
from .profile import IXP2800, IXP2850, Param, Profile

__all__ = ["IXP2800", "IXP2850", "Param", "Profile"]

"""The SPP node's system software: the SRM (admission control, ``srm``), the
slice interface (``rmp``) and the GPE server model with per-slice Python
slow paths (``gpe``). The node on the network substrate is network.spp."""
from .rmp import RMP, DataplaneError
from .srm import SRM, AccessError, AdmissionError, GPECapacity, Interface, NPECapacity, SppError

__all__ = ["SRM", "RMP", "Interface", "NPECapacity", "GPECapacity", "SppError", "AccessError", "AdmissionError",
           "DataplaneError"]

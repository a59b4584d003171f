"""Routers: assemblies of NP blocks on the modelled hardware."""
from .npr import NPR, ConservationError, FilterAction, PortConfig

__all__ = ["NPR", "PortConfig", "FilterAction", "ConservationError"]

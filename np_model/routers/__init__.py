"""Old name of ``np_model.assemblies`` (kept so existing scripts keep working)."""
from ..assemblies import *  # noqa: F401,F403
from ..assemblies import __all__  # noqa: F401

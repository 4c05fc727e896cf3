"""lunadyn.thermal: heat -- radiogenic heating, mantle, core, basal layer and the thermal ODE kernel."""
from . import jit_cache  # noqa: F401  first: sets Numba's cache directory before any kernel is defined

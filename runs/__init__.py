"""lunadyn.runs: scenarios and sweeps -- registry, config, pipeline, store, observations, CLI, API."""
__version__ = "0.1.0"

"""lunadyn.dynamo: fields -- orbit, scaling laws, the core, BMO and precession sources, surface field."""

"""lunadyn.runs: everything between a TOML file and an answer, in layers (record, spec, io, compute,
inference, viz, cli; DESIGN.md). The public functions are re-exported by ``import lunadyn``."""

"""Computing models: the chunk pipeline, single runs, the sweep driver, field re-scoring, progress."""

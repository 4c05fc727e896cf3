"""Inference throughput (issue 11): a fixed small inference on the dask backend against the bare pipeline.

infer_models_per_s: model evaluations per second of the sampling of a fixed inference (three free
parameters, two hypotheses, 480 chains x 8 states per generation, 0.05 Ga output step, chunks of 125) on
a LocalCluster of 2 single-threaded workers, timed from after the workers are up and warm to the end of
the sampling (the posterior draws' field histories excluded; the two hypotheses are sampled side by side,
so the time is from the first one's start to the last one's end); bare_models_per_s_same_batches: every
batch that inference evaluated, recorded, computed again through the same worker function
(``InferenceProblem.loglike_chunk``: runs.pipeline.compute and the likelihood) in this process on the
same cores (Numba threads), no scheduler, no sampler; infer_overhead = 1 - their ratio (goal <= 0.2).
"""
import shutil
import tempfile
import time
from pathlib import Path

import numba

SPEC = """title = "bench: inference"
base = "{base}"
seed = 3
[free]
r_core = {{}}
bmo_thickness0 = {{ min = 50e3, max = 500e3 }}
sigma_bmo = {{}}
[hypotheses]
bmo = {{ sources = ["bmo"] }}
any = {{ sources = ["core", "bmo", "precession"] }}
[sampler]
particles = 480
chain_length = 8
[settings]
output_step = 0.05
chunk_size = 125
"""


def run(workers=2):
    import lunadyn.runs.inference.infer as inf
    from lunadyn.runs.compute.pipeline import warmup
    from lunadyn.runs.spec.inference import spec_from_text

    warmup()
    base = Path(__file__).resolve().parents[1] / "runs" / "examples" / "moon_default.toml"
    spec = spec_from_text(SPEC.format(base=base), "bench")
    tmp = Path(tempfile.mkdtemp(prefix="lunadyn-bench-infer-"))
    batches, timer = [], {"start": [], "end": []}
    orig_call, orig_run = inf.BatchLikelihood.__call__, inf.run_hypothesis

    def recording_call(self, U):
        batches.append((self.fn.args[1], U.copy()))
        return orig_call(self, U)

    def timed_run(*a, **k):
        timer["start"].append(time.perf_counter())
        try:
            return orig_run(*a, **k)
        finally:
            timer["end"].append(time.perf_counter())

    inf.BatchLikelihood.__call__, inf.run_hypothesis = recording_call, timed_run
    try:
        out = inf.infer(spec, tmp / "bench.zarr", backend="dask", workers=workers, progress=False)
    finally:
        inf.BatchLikelihood.__call__, inf.run_hypothesis = orig_call, orig_run
        shutil.rmtree(tmp, ignore_errors=True)
    n = sum(u.shape[0] for _, u in batches)
    evaluations = sum(r["n_evaluations"] for r in out["hypotheses"])
    sampling = max(timer["end"]) - min(timer["start"])   # the hypotheses are sampled side by side on dask
    rate = n / sampling
    problem = inf.InferenceProblem(spec)
    t0 = time.perf_counter()
    for h, U in batches:
        problem.loglike_chunk(h, U)
    bare = n / (time.perf_counter() - t0)
    return {
        "infer_models_per_s": round(rate, 1),
        "bare_models_per_s_same_batches": round(bare, 1),
        "infer_overhead": round(1.0 - rate / bare, 4),
        "infer_models": int(n),
        "infer_evaluations_reported": int(evaluations),
        "infer_batches": len(batches),
        "infer_sampling_s": round(sampling, 2),
        "bare_s": round(n / bare, 2),
        "infer_workers": workers,
        "bare_threads": numba.get_num_threads(),
    }


if __name__ == "__main__":
    print(run())

"""runs/compute/allocator.py: a process computing unit after unit reuses the pages of the last unit.

Counted in minor page faults (getrusage) in a fresh process, so the figure is the allocator's, not the
machine's speed: with glibc's defaults the second unit faults its working arrays in again, with
``keep_freed_memory`` (which ``pipeline.compute`` applies) it does not.
"""
import json
import os
import subprocess
import sys

import pytest

SCRIPT = r"""
import json, resource, sys
from lunadyn.runs.compute import allocator, pipeline
from lunadyn.runs.registry import make_records
if sys.argv[1] == "off":
    allocator._applied = False            # as if the tuning had been tried and refused
recs = make_records(256)
settings = {"output_step": 0.05}
pipeline.compute(recs, settings)          # the first unit: compiles or loads the kernels, faults in its pages
faults = []
for _ in range(3):
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    pipeline.compute(recs, settings)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0)
print(json.dumps({"applied": allocator._applied, "faults": faults}))
"""


def _faults(mode):
    out = subprocess.run([sys.executable, "-c", SCRIPT, mode], capture_output=True, text=True, check=True,
                         env={**os.environ, "NUMBA_NUM_THREADS": "1"})
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_later_units_reuse_the_pages_of_the_first():
    on, off = _faults("on"), _faults("off")
    assert on["applied"] is True and off["applied"] is False
    # a 256-model unit at 0.05 Ga works in ~10 MB (2,500 pages): glibc's defaults fault most of it in
    # again every unit; tuned, the later units fault in almost nothing
    assert min(off["faults"]) > 1000, off
    assert max(on["faults"]) < 0.1 * min(off["faults"]), (on, off)

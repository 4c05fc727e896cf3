"""One scenario computed into a store (``lunadyn run``): one sample, one chunk, through the chunk pipeline."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..io.dataset import text_attrs
from ..io.store import create_store, variable_layout, write_chunk
from ..spec.config import Scenario, scenario_records, scenario_spec
from . import pipeline


def spec_text(scn: Scenario) -> str:
    """The scenario's TOML text, with any overrides recorded as trailing comments."""
    if not scn.overrides:
        return scn.text
    lines = [f"# {k} = {json.dumps(v)}" for k, v in scn.overrides.items()]
    return scn.text.rstrip("\n") + "\n\n# overrides applied on top of the above (--set):\n" + "\n".join(lines) + "\n"


def _set_arg(name, value) -> str:
    """``NAME=VALUE`` as ``--set`` reads it back (a TOML value; a bare string for categoricals)."""
    if isinstance(value, str):
        return f"{name}={value}"
    if isinstance(value, bool):
        return f"{name}={'true' if value else 'false'}"
    return f"{name}={json.dumps(value)}"


def made_by(scn: Scenario) -> str | None:
    """The ``lunadyn run`` command line that makes this scenario's store (JSON list; None without a file)."""
    if scn.path is None:
        return None
    argv = ["lunadyn", "run", str(Path(scn.path).resolve())]
    for name, value in scn.overrides.items():
        argv += ["--set", _set_arg(name, value)]
    return json.dumps(argv + ["--no-plot"])


def run_scenario(scn: Scenario, store_path, *, overwrite: bool = False) -> Path:
    """Compute one scenario and write it to a store (one sample, one chunk); returns the store path.

    A store of the same spec that is already complete is kept as it is (resume: nothing to do); a
    different spec at ``store_path`` is refused unless ``overwrite``; a foreign directory always is.
    """
    path = Path(store_path)
    layout = variable_layout()
    ages = pipeline.output_ages(scn.settings["start_age"], scn.settings["output_step"])
    attrs = text_attrs(scn)
    if made_by(scn):
        attrs["made_by"] = made_by(scn)
    g = create_store(path, spec=scenario_spec(scn), spec_text=spec_text(scn), n_samples=1, chunk_size=1,
                     ages=ages, variables=layout, fixed=scn.values, attrs=attrs, overwrite=overwrite)
    if g["done"][0]:
        return path
    result = pipeline.compute(scenario_records(scn, 1), scn.settings)
    if not np.array_equal(np.asarray(result["age"]), ages):
        raise RuntimeError("pipeline.compute returned output ages that differ from pipeline.output_ages")
    arrays = {**result["state"], **result["outputs"], **result["summaries"]}
    write_chunk(g, 0, {k: v for k, v in arrays.items() if k in layout}, result["status"])
    return path

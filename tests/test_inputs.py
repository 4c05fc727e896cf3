"""Every bad input answered in one line (issue 12): a property-style corpus of malformed scenarios and
sweep specs (hypothesis), resource options, output paths, commands that would write into their input,
job-script injection, a UTF-8 byte-order mark, a model that exhausts max_steps, bounds that can be
typed back. Each bad input: exit 2, one line ``lunadyn: error: ...``, no traceback, nothing created.

The corpus runs ``lunadyn.runs.cli.main.main`` in-process (hundreds of inputs in seconds); the counts of inputs tried
and answered well are printed by the last test (``-s`` to see them).
"""
import hashlib
import json
import math
import os
import string
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunadyn.runs.cli import main as cli
from lunadyn.cluster.errors import ClusterError
from lunadyn.runs.errors import UserError, exact
from lunadyn.runs.registry import ALL_PARAMS, PARAMS, SPEC, STATE_NAMES
from lunadyn.runs.spec.config import load_scenario

REPO = Path(__file__).resolve().parents[1]
CORPUS = {"tried": 0, "answered": 0, "generated": 0}
VALID_SPEC = """title = "corpus"
[vary]
r_core = { min = 320e3, max = 380e3 }
law = ["cia", "ml"]
[sampler]
method = "lhs"
n = 4
[settings]
output_step = 0.5
chunk_size = 4
"""


def answered_in_one_line(capsys, argv, created=()):
    """Run main(argv) in-process; the answer must be exit 2, one line, no traceback, nothing created."""
    CORPUS["tried"] += 1
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    lines = err.strip().splitlines()
    assert code == 2, (argv, code, err, out)
    assert len(lines) == 1 and lines[0].startswith("lunadyn: error: ") and "Traceback" not in err, (argv, err)
    for p in created:
        assert not Path(p).exists(), (argv, p)
    CORPUS["answered"] += 1
    return lines[0]


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "nan" if math.isnan(v) else ("inf" if v == math.inf else ("-inf" if v == -math.inf else repr(v)))
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


# --- strategies: each draws an input that is invalid by construction -----------------------------------

NUMERIC = [n for n, p in ALL_PARAMS.items() if p.kind in ("float", "int")]
BOUNDED = [n for n in NUMERIC if math.isfinite(ALL_PARAMS[n].bounds[0]) or math.isfinite(ALL_PARAMS[n].bounds[1])]
CATEGORIES = [n for n, p in ALL_PARAMS.items() if p.kind == "category"]
ARRAYS = [n for n, p in ALL_PARAMS.items() if p.kind == "array"]
identifiers = st.text(string.ascii_letters + "_", min_size=1, max_size=12).filter(
    lambda s: s not in ALL_PARAMS and s not in ("title", "description"))
texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)      # no lone surrogates
junk = st.one_of(texts, st.booleans(), st.lists(st.integers(), max_size=3),
                 st.dictionaries(st.sampled_from(["a", "b"]), st.integers(), min_size=1, max_size=2))


@st.composite
def out_of_bounds(draw):
    name = draw(st.sampled_from(BOUNDED))
    p = ALL_PARAMS[name]
    lo, hi = p.bounds
    sides = []
    if math.isfinite(lo):
        sides.append("below")
    if math.isfinite(hi):
        sides.append("above")
    side = draw(st.sampled_from(sides))
    if p.kind == "int":
        v = draw(st.integers(max_value=int(lo) - (0 if p.lower_open else 1))) if side == "below" else \
            draw(st.integers(min_value=int(hi) + 1))
        return name, v
    if side == "below":
        v = lo if p.lower_open else draw(st.floats(max_value=lo, exclude_max=True, allow_nan=False,
                                                   allow_infinity=False))
        v = draw(st.sampled_from([v, lo - abs(lo) * 0.5 - 1.0, -1e300]))
    else:
        v = draw(st.sampled_from([hi * 2 + 1.0, 1e300, math.nextafter(hi, math.inf)]))
    return name, v


@st.composite
def bad_scenario(draw):
    """A scenario file's text (or bytes) with at least one error."""
    kind = draw(st.sampled_from(["unknown", "type", "bounds", "nonfinite", "category", "array", "syntax",
                                 "consistency", "table", "text", "bytes"]))
    lines = []
    if draw(st.booleans()):                      # some valid lines around the error
        lines.append('title = "ok"')
    if kind == "unknown":
        lines.append(f"{draw(identifiers)} = 1.0")
    elif kind == "type":
        name = draw(st.sampled_from(NUMERIC))
        lines.append(f"{name} = {toml_value(draw(junk))}")
    elif kind == "bounds":
        name, v = draw(out_of_bounds())
        lines.append(f"{name} = {toml_value(v)}")
    elif kind == "nonfinite":
        name = draw(st.sampled_from([n for n in NUMERIC if ALL_PARAMS[n].kind == "float"]))
        lines.append(f"{name} = {draw(st.sampled_from(['nan', 'inf', '-inf']))}")
    elif kind == "category":
        name = draw(st.sampled_from(CATEGORIES))
        bad = draw(st.one_of(texts.filter(lambda s: s not in ALL_PARAMS[name].choices),
                             st.integers(), st.floats(allow_nan=False)))
        lines.append(f"{name} = {toml_value(bad)}")
    elif kind == "array":
        name = draw(st.sampled_from(ARRAYS))
        p = ALL_PARAMS[name]
        bad = draw(st.one_of(st.just([1.0] * (p.size + 1)), st.just(["x"]), st.floats(allow_nan=False),
                             st.just([math.inf])))
        lines.append(f"{name} = {toml_value(bad)}")
    elif kind == "syntax":
        lines.append(draw(st.sampled_from(["r_core = = 1", "[unclosed", "r_core = 3e5e5", "= 4",
                                           "k_core = 40\nk_core = 41", 'title = "no end', "law = [cia]"])))
    elif kind == "consistency":
        lines.append(draw(st.sampled_from(["f_hpe_crust = 0.8\nf_hpe_basal = 0.5",
                                           "f_hpe_basal = 0.3\nbmo_thickness0 = 0.0",
                                           "lid0 = 1000.0\ncrust_thickness = 40e3",
                                           "start_age = 4.5\noutput_step = 0.7"])))
    elif kind == "table":
        lines.append(f"[{draw(st.sampled_from(['vary', 'parameters', 'x']))}]\nr_core = 3e5")
    elif kind == "text":
        lines.append(f"{draw(st.sampled_from(['title', 'description']))} = {toml_value(draw(st.integers()))}")
    else:
        return b"\xff\xfe r_core = \x80\x81\n"
    if draw(st.booleans()):
        lines.reverse()
    text = "\n".join(lines) + "\n"
    return ("\ufeff" + text) if draw(st.booleans()) else text


@st.composite
def bad_spec(draw):
    """A sweep spec with at least one error (the valid spec's sections, one of them broken)."""
    sections = {"vary": {"r_core": {"min": 320e3, "max": 380e3}, "law": ["cia", "ml"]},
                "sampler": {"method": "lhs", "n": 4}, "settings": {"output_step": 0.5, "chunk_size": 4}}
    top = {"title": "corpus"}
    kind = draw(st.sampled_from(["vary-unknown", "vary-keys", "vary-range", "vary-log", "vary-n", "vary-list",
                                 "vary-category", "vary-array", "vary-type", "vary-empty", "vary-missing",
                                 "sampler", "sobol", "memory", "settings", "output", "section", "base",
                                 "bounds"]))
    vary = sections["vary"]
    if kind == "vary-unknown":
        vary[draw(identifiers)] = {}
    elif kind == "vary-keys":
        vary["eta_ref"] = draw(st.sampled_from([{"min": 1e19}, {"max": 1e20}, {"lo": 1e19, "hi": 1e20},
                                                {"min": 1e19, "max": 1e20, "scale": "cubic"}]))
    elif kind == "vary-range":
        a = draw(st.floats(min_value=300e3, max_value=400e3))
        vary["r_core"] = {"min": a, "max": draw(st.floats(min_value=250e3 + 1, max_value=a))}
    elif kind == "vary-log":
        vary["T_cmb0"] = {"min": draw(st.sampled_from([0.0, -5.0])), "max": 2000.0, "scale": "log"}
    elif kind == "vary-n":
        vary["r_core"] = {"min": 320e3, "max": 380e3, "n": draw(st.sampled_from([0, -1, 2.5, True, "3"]))}
    elif kind == "vary-list":
        vary["law"] = draw(st.sampled_from([[], ["fast"], [1, 2], ["cia", 3]]))
    elif kind == "vary-category":   # (law = {} is valid: all the choices, sampled with the ranges)
        vary["law"] = draw(st.sampled_from([{"choices": ["fast"]}, {"min": 0, "max": 1}, {"choices": []}]))
    elif kind == "vary-array":
        vary["qcmb_ages"] = {}
    elif kind == "vary-type":
        vary["r_core"] = draw(st.one_of(st.integers(), texts, st.booleans()))
    elif kind == "vary-empty":
        sections["vary"] = {}
    elif kind == "vary-missing":
        del sections["vary"]
    elif kind == "sampler":
        sections["sampler"] = draw(st.sampled_from([{"method": "random"}, {"n": 0}, {"n": -3}, {"n": 2.5},
                                                    {"seed": -1}, {"seed": 1.5}, {"method": "lhs", "m": 3}]))
    elif kind == "sobol":
        sections["sampler"] = {"method": "sobol", "n": draw(st.integers(min_value=3, max_value=10**6).filter(
            lambda n: n & (n - 1)))}
    elif kind == "memory":
        sections["sampler"] = {"method": "lhs", "n": draw(st.integers(min_value=10**13, max_value=10**18))}
    elif kind == "settings":
        sections["settings"] = draw(st.sampled_from([{"chunk_size": 0}, {"chunk_size": -4}, {"chunk_size": 2.5},
                                                     {"rtol": -1.0}, {"max_steps": 1.5}, {"output_stp": 0.5},
                                                     {"output_step": 0.7}, {"chunk_size": 10**15}]))
        if "chunk_size" in sections["settings"] and sections["settings"]["chunk_size"] == 10**15:
            sections["sampler"] = {"method": "lhs", "n": 10**9}
    elif kind == "output":
        sections["output"] = draw(st.sampled_from([{"variables": ["B_surfce"]}, {"variables": "B_surface"},
                                                   {"variables": [STATE_NAMES[0]]}, {"keep_state": "yes"},
                                                   {"keep": True}]))
    elif kind == "section":
        sections[draw(identifiers)] = {"a": 1}
    elif kind == "base":
        top["base"] = draw(st.sampled_from(["missing.toml", 3]))
    else:
        name, v = draw(out_of_bounds())
        sections.setdefault("parameters", {})[name] = v
        if name in SPEC:
            sections["settings"][name] = sections["parameters"].pop(name)
            sections.pop("parameters")
    text = "".join(f"{k} = {toml_value(v)}\n" for k, v in top.items())
    for sec, table in sections.items():
        text += f"[{sec}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in table.items())
    return ("\ufeff" + text) if draw(st.booleans()) else text


CORPUS_SETTINGS = settings(max_examples=250, deadline=None, derandomize=True,
                           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@CORPUS_SETTINGS
@given(text=bad_scenario())
def test_malformed_scenarios_are_one_line(text, tmp_path, capsys):
    f = tmp_path / "bad.toml"
    f.write_bytes(text if isinstance(text, bytes) else text.encode())
    out = tmp_path / "never.zarr"
    CORPUS["generated"] += 1
    answered_in_one_line(capsys, ["run", f, "-o", out], created=[out, tmp_path / "never.png"])


@CORPUS_SETTINGS
@given(text=bad_spec())
def test_malformed_sweep_specs_are_one_line(text, tmp_path, capsys):
    f = tmp_path / "bad_sweep.toml"
    f.write_text(text)
    out = tmp_path / "never.zarr"
    CORPUS["generated"] += 1
    answered_in_one_line(capsys, ["sweep", f, "-o", out, "--backend", "serial"], created=[out])


# --- options, paths, writing into an input --------------------------------------------------------------

@pytest.fixture
def spec(tmp_path):
    p = tmp_path / "sweep.toml"
    p.write_text(VALID_SPEC)
    return p


@pytest.mark.parametrize("args,fragment", [
    (["--workers", "0"], "--workers: expected a positive integer, got '0'"),
    (["--workers", "-2"], "--workers: expected a positive integer"),
    (["--workers", "many"], "--workers: expected a positive integer"),
    (["--n-tasks", "0", "--task-index", "0"], "--n-tasks: expected a positive integer"),
    (["--task-index", "-1", "--n-tasks", "2"], "--task-index: expected a non-negative integer"),
    (["--task-index", "2", "--n-tasks", "2"], "expected 0 <= I < --n-tasks 2"),
    (["--task-index", "0"], "go together"),
    (["--backend", "threads"], "invalid choice"),
])
def test_resource_options_are_checked_before_anything_starts(spec, tmp_path, capsys, args, fragment):
    out = tmp_path / "s.zarr"
    line = answered_in_one_line(capsys, ["sweep", spec, "-o", out, *args], created=[out])
    assert fragment in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.toml"]


def test_api_refuses_bad_worker_counts(spec, tmp_path):
    from lunadyn.runs import api
    for bad in (0, -1):
        with pytest.raises(UserError, match="--workers"):
            api.sweep(spec, tmp_path / "s.zarr", backend="dask", workers=bad)
    assert not (tmp_path / "s.zarr").exists()


def test_an_output_below_a_plain_file_is_one_line_for_every_writer(spec, tmp_path, capsys):
    scenario = tmp_path / "moon.toml"
    scenario.write_text("output_step = 0.5\n")
    plain = tmp_path / "notes.txt"
    plain.write_text("not a directory\n")
    below = plain / "out.zarr"
    for argv in (["run", scenario, "-o", below], ["sweep", spec, "-o", below, "--backend", "serial"],
                 ["sweep", spec, "-o", plain / "deeper" / "s.zarr"], ["plot", tmp_path, "-o", plain / "f.png"],
                 ["fit", scenario, "--free", "r_core", "-o", below],
                 ["submit", spec, "--scheduler", "slurm", "--mode", "array", "-o", below, "--dry-run"]):
        line = answered_in_one_line(capsys, argv)
        assert "is a file, not a directory" in line, (argv, line)
    assert plain.read_text() == "not a directory\n"


def hashes(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(root).rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def made(tmp_path_factory, warm):
    """A run store and a sweep store to feed the writing commands as inputs."""
    from lunadyn.runs import api

    d = tmp_path_factory.mktemp("inputs")
    scenario = d / "moon.toml"
    scenario.write_text("output_step = 0.5\n")
    spec = d / "sweep.toml"
    spec.write_text(VALID_SPEC)
    assert cli.main(["run", str(scenario), "-o", str(d / "run.zarr"), "--no-plot", "--json"]) == 0
    api.sweep(spec, d / "sweep.zarr", backend="serial", progress=False)
    return d


def test_no_command_writes_into_its_input(made, capsys):
    d = made
    scenario, spec, run, sw = d / "moon.toml", d / "sweep.toml", d / "run.zarr", d / "sweep.zarr"
    before = hashes(d)
    cases = [
        ["field", run, "-o", run],                       # the issue's case: the store it reads
        ["field", sw, "-o", sw / "inner.zarr"],          # inside it
        ["field", sw, "-o", d],                          # containing it
        ["run", scenario, "-o", scenario],
        ["run", scenario, "-o", d],
        ["sweep", spec, "-o", spec, "--backend", "serial"],
        ["sweep", spec, "-o", d, "--backend", "serial"],
        ["plot", sw, "-o", sw],
        ["plot", sw, "-o", sw / "fig.png"],
        ["plot", run, "-o", run / "c" / "fig.png"],
        ["fit", scenario, "--free", "r_core", "-o", scenario],
        ["fit", scenario, "--free", "r_core", "-o", d],
        ["submit", spec, "--scheduler", "slurm", "--mode", "array", "-o", spec, "--dry-run"],
        ["submit", spec, "--scheduler", "pbs", "--mode", "mpi", "-o", d, "--dry-run"],
    ]
    for argv in cases:
        line = answered_in_one_line(capsys, argv)
        assert "no command writes into its input" in line, (argv, line)
    assert hashes(d) == before                           # every file unchanged


def test_the_figure_of_run_is_checked_too(tmp_path, capsys):
    scenario = tmp_path / "moon.png"                     # a scenario file that happens to end in .png
    scenario.write_text("output_step = 0.5\n")
    before = scenario.read_text()
    line = answered_in_one_line(capsys, ["run", scenario, "-o", tmp_path / "moon.zarr"])
    assert "the figure of -o" in line and "no command writes into its input" in line
    assert scenario.read_text() == before and not (tmp_path / "moon.zarr").exists()


# --- job scripts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("directive", ["--qos=normal\nrm -rf ~", "--qos=a;rm -rf ~", "--comment=$(id)",
                                       "--comment=`id`", "--mem=4G && curl x|sh", "--x='a'", "--x=\"a\"",
                                       "--output=/tmp/a b\rc", "qos=normal", "--x=a\\b", "--x=a>b"])
def test_directives_with_newlines_or_shell_metacharacters_are_refused(spec, capsys, directive):
    line = answered_in_one_line(capsys, ["submit", spec, "--scheduler", "slurm", "--mode", "mpi", "--dry-run",
                                         "--directive", directive])
    assert "--directive" in line


@pytest.mark.parametrize("option,value", [("--partition", "debug\n#SBATCH --x"), ("--partition", "a b"),
                                          ("--account", "x;id"), ("--name", "a\nb"), ("--time", "1:00:00\n"),
                                          ("--account", "$(id)")])
def test_other_job_values_are_validated(spec, capsys, option, value):
    answered_in_one_line(capsys, ["submit", spec, "--scheduler", "pbs", "--mode", "array", "--dry-run",
                                  option, value])


def test_hostile_but_valid_values_stay_one_directive_per_line_and_run_as_data(tmp_path, capsys, monkeypatch):
    """Paths with spaces, quotes, $(...) and backticks: the directives stay one per line, and running the
    rendered script (lunadyn and mpiexec replaced by echo) passes every path through verbatim, executing
    nothing."""
    from lunadyn.cluster import submit

    hostile = tmp_path / "we$(touch PWNED)ird 'dir' `touch PWNED2`"
    hostile.mkdir()
    spec = hostile / "sw$(id).toml"
    spec.write_text(VALID_SPEC)
    store = tmp_path / "safe" / "s.zarr"
    monkeypatch.chdir(hostile)
    monkeypatch.setattr(submit, "executables", lambda: {"lunadyn": "/bin/echo", "mpiexec": "/bin/echo"})
    for scheduler, mode in (("slurm", "array"), ("slurm", "mpi"), ("pbs", "dask"), ("pbs", "mpi")):
        code = cli.main(["submit", str(spec), "--scheduler", scheduler, "--mode", mode, "--dry-run", "-o", str(store),
                         "--directive=--qos=normal", "--directive=--exclude=node[01-04]", "--partition",
                         "short,long", "--account", "moon-42"])
        script, err = capsys.readouterr()
        assert code == 0, err
        prefix = "#SBATCH " if scheduler == "slurm" else "#PBS "
        dirs = [ln for ln in script.splitlines() if ln.startswith(prefix)]
        assert any("--qos=normal" in d for d in dirs) and any("node[01-04]" in d for d in dirs)
        for d in dirs:                                   # one option per directive line
            assert "\n" not in d and ";" not in d and "$" not in d and "`" not in d
        run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=hostile,
                             env={**os.environ, "SLURM_ARRAY_TASK_ID": "0", "SLURM_NTASKS": "2",
                                  "PBS_ARRAY_INDEX": "0"}, timeout=60)
        assert run.returncode == 0, run.stderr
        assert str(spec) in run.stdout                   # the hostile path, verbatim, as data
        assert not (hostile / "PWNED").exists() and not (hostile / "PWNED2").exists()
        assert not Path("PWNED").exists()


def test_cluster_section_values_are_validated():
    from lunadyn.cluster.jobqueue import cluster_options

    for section in ({"kind": "slurm", "job_extra_directives": ["--qos=a\nrm -rf ~"]},
                    {"kind": "slurm", "queue": "q;id"}, {"kind": "pbs", "log_directory": "/tmp/a b"},
                    {"kind": "slurm", "job_script_prologue": ["module load x\nrm -rf ~"]},
                    {"kind": "slurm", "job_name": "a$(id)"}):
        with pytest.raises(ClusterError):
            cluster_options(section)
    kind, kw, _ = cluster_options({"kind": "slurm", "queue": "short", "job_extra_directives": ["--qos=normal"]})
    assert kw["queue"] == "short" and kw["job_extra_directives"] == ["--qos=normal"]


# --- the small things -----------------------------------------------------------------------------------

def test_a_byte_order_mark_is_accepted(tmp_path):
    f = tmp_path / "bom.toml"
    f.write_bytes("\ufeffr_core = 360e3\ntitle = \"saved by an editor\"\n".encode())
    scn = load_scenario(f)
    assert scn.values["r_core"] == 360e3 and scn.title == "saved by an editor"
    from lunadyn.runs.spec.sweep import load_spec
    s = tmp_path / "bom_sweep.toml"
    s.write_bytes(("\ufeff" + VALID_SPEC).encode())
    assert load_spec(s).n_samples == 8


def test_a_model_that_exhausts_max_steps_reports_its_status(tmp_path, capsys, warm):
    scenario = tmp_path / "short.toml"
    scenario.write_text("max_steps = 10\noutput_step = 0.5\n")
    out = tmp_path / "short.zarr"
    for extra in ([], ["--json"]):
        code = cli.main(["run", str(scenario), "-o", str(out), *extra, "--overwrite"])
        stdout, err = capsys.readouterr()
        assert code == 0 and "Traceback" not in err, err
        assert "max_steps exceeded" in err and len(err.strip().splitlines()) == 1
        if extra:
            summary = json.loads(stdout)
            assert summary["status"] & 0xF == 2 and summary["status_text"] == "max_steps exceeded"
        else:
            assert "FAILED: max_steps exceeded" in stdout and "n/a" in stdout
    assert (tmp_path / "short.png").exists()
    code = cli.main(["info", str(out), "--json"])
    info = json.loads(capsys.readouterr()[0])
    assert code == 0 and info["n_failed"] == 1


def test_printed_bounds_can_be_typed_back(tmp_path, capsys):
    """The value `lunadyn params` shows as a bound, typed back in a scenario, is accepted (or, for an
    open lower bound, refused only as open), and error messages quote bounds the same way."""
    assert cli.main(["params"]) == 0
    rows = {ln.split()[0]: ln for ln in capsys.readouterr()[0].splitlines()[1:]}
    checked = 0
    for name, p in PARAMS.items():
        if p.kind not in ("float", "int"):
            continue
        lo, hi = p.bounds
        if math.isfinite(hi):
            shown = exact(hi)
            assert f" {shown} " in rows[name] + " ", (name, shown, rows[name])
            value = tomllib.loads(f"v = {shown}")["v"]
            assert value == hi
            checked += 1
    assert checked > 20
    # a bound with more digits than %g shows: exact in the message, and the shown value is accepted
    assert exact(10 ** 22.5) == repr(10 ** 22.5) and exact(4.6) == "4.6" and exact(1e7) == "1e+07"
    f = tmp_path / "x.toml"
    f.write_text("max_steps = 5\n")
    with pytest.raises(UserError, match="10 <= max_steps <= 10000000"):
        load_scenario(f)
    f.write_text("max_steps = 10000000\n")
    assert load_scenario(f).settings["max_steps"] == 10_000_000


def test_zz_corpus_counts(capsys):
    """The corpus of this module: bad inputs tried and answered in one line (printed with -s)."""
    with capsys.disabled():
        print(f"\nbad inputs tried {CORPUS['tried']} ({CORPUS['generated']} generated by hypothesis), "
              f"answered in one line {CORPUS['answered']}")
    assert CORPUS["tried"] == CORPUS["answered"]
    assert CORPUS["generated"] in (0, 500)          # both generated corpora ran in full, or were deselected

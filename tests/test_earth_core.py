"""Earth cores for cross-code validation (issue 10 item 4): ``body = "earth"`` and the core-only Earth of
runs/examples/earth_core_only.toml against VPLanet's ThermInt (EarthInterior example).

The reference. VPLanet's examples/EarthInterior (github.com/VirtualPlanetaryLaboratory/vplanet; RadHeat +
ThermInt, the Driscoll & Bercovici 2014 core; run with vplanet built from commit 9086d64 of 2026-03-04)
ends with the values its own benchmark publishes in tests/RadheatThermint/EarthInterior/
test_EarthInterior.py (log.final): RIC = 1233.676354 km, TCore = 4999.131849 K, TCMB = 3999.305479 K,
DRICDTCMB = -1.851901e4 m/K. The other numbers below are read from the run's 0.01 Gyr output table
(earth.earth.forward), whose T_core column is the integrated state (its TCMB and RIC columns are auxiliary
values that lag the state by one output step: the last row's RIC is 1224.8 km, the log's 1233.7 km, which
is r_ic(0.8 T_core) of the final state). Nothing of VPLanet's code is used here.

The mapping (docstring of the scenario file, README "Earth cores"): lunadyn's constant-property core with
VPLanet's mass and radius, its heat capacity per K of T_cmb (c_p (1 + 2 r_c^2/(5 D^2)) = 840/0.8), its
adiabatic length D = D_N = 6340 km, its latent + gravitational energy per unit volume of inner core folded
into latent_core, a passive light element, the chord of its Lindemann liquidus between the centre and
1221 km as the linear liquidus, and as the prescribed CMB heat flow the heat VPLanet's core loses net of its
radiogenic heat (32 knots).

Tolerances. The knot table reproduces VPLanet's cumulative core heat to 0.15 K x C; the liquidus chord is
exact at r = 0 and 1221 km and within 1.4 K of the Lindemann law in between, which moves the split between
cooling and freezing by < 1 K of T_cmb; VPLanet's own energy books miss ~0.03 K at its nucleation step. So:
T_cmb within 1 K at every tabulated age; nucleation within 5 Myr (the core cools 0.16 K/Myr then, and
VPLanet's table is 10 Myr apart); the inner core today within 10 km (|dr_i/dT_cmb| = 18.5 km/K times ~0.5 K).
For scale: re-running VPLanet's coupled example with a 1 Myr output interval instead of 10 Myr changes its
own answer to 1242.9 km and 0.546 Ga.
"""
import math
from pathlib import Path

import numpy as np
import pytest

from lunadyn.runs import api
from lunadyn.runs.spec.config import load_scenario, scenario_from_text
from lunadyn.runs.errors import UserError
from lunadyn.runs.registry import PARAMS

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "runs/examples/earth_core_only.toml"

# VPLanet EarthInterior (see the module docstring)
VPL_RIC_TODAY_KM = 1233.676354          # log.final RIC (= its benchmark's published value)
VPL_TCMB_TODAY = 3999.305479            # log.final TCMB
VPL_DRICDTCMB = -1.851901e4             # m/K, log.final
VPL_TCORE = {                            # age (Ga) -> T_core (K), from earth.earth.forward
    4.50: 6000.0, 3.00: 5622.897238, 1.00: 5137.375721, 0.54: 5041.608401, 0.53: 5039.893035,
    0.40: 5026.660616, 0.20: 5011.772028, 0.00: 4999.131849,
}
EPS_C = 0.8                              # VPLanet ADJUMPC2CMB: T_cmb = 0.8 T_core
T_NUC = 5451.6 * math.exp(-(3481.0 / 6340.0) ** 2)   # T_cmb at which the adiabat touches T_Fe0 at the centre
# nucleation: 0.8 T_core passes T_NUC between 0.54 and 0.53 Ga (linear in VPLanet's table)
VPL_NUCLEATION_GA = 0.54 - 0.01 * (EPS_C * VPL_TCORE[0.54] - T_NUC) / (EPS_C * (VPL_TCORE[0.54] - VPL_TCORE[0.53]))


@pytest.fixture(scope="module")
def earth(warm):
    return api.run(SCENARIO)


def test_the_vplanet_reference_numbers_are_consistent():
    """The reference is self-consistent: today's T_cmb is 0.8 T_core, and VPLanet's inner core today
    (DB14: T_cmb exp((r_c^2 - r^2)/D_N^2) = T_Fe0 exp(-2(1 - 1/(3 gamma)) r^2/D_Fe^2)) is r_ic(T_cmb);
    nucleation falls at 0.536 Ga."""
    assert EPS_C * VPL_TCORE[0.0] == pytest.approx(VPL_TCMB_TODAY, abs=1e-5)
    r_c, D_N, D_Fe, g = 3481e3, 6340e3, 7000e3, 1.3
    b = 2 * (1 - 1 / (3 * g)) / D_Fe ** 2
    r2 = (math.log(5451.6 / VPL_TCMB_TODAY) - r_c ** 2 / D_N ** 2) / (b - 1 / D_N ** 2)
    assert math.sqrt(r2) / 1e3 == pytest.approx(VPL_RIC_TODAY_KM, abs=1e-3)
    assert VPL_NUCLEATION_GA == pytest.approx(0.536, abs=1e-3)


def test_body_earth_takes_earth_defaults_and_bounds():
    """body = "earth" takes the Earth column (core_only mode, a 3480 km core at 10,940 kg/m3, T_cmb0 4800 K)
    and Earth bounds; the Moon's bounds refuse every Earth core and the Earth's every lunar one."""
    scn = scenario_from_text('body = "earth"\n', "earth")
    assert scn.body == "earth"
    v = scn.values
    assert (v["mode"], v["r_core"], v["rho_core"], v["T_cmb0"], v["liquidus"]) == (
        "core_only", 3480e3, 10940.0, 4800.0, "linear")
    assert v["T_mantle0"] == PARAMS["T_mantle0"].default     # no Earth mantle: the Moon's value stays
    for name, value in (("r_core", 3480e3), ("rho_core", 10940.0), ("T_cmb0", 4800.0), ("k_core", 100.0)):
        with pytest.raises(UserError, match=f"{name} = .* out of bounds"):
            scenario_from_text(f"{name} = {value!r}\n", "moon")
    with pytest.raises(UserError, match=r"out of bounds \(body = earth\)"):
        scenario_from_text('body = "earth"\nr_core = 350e3\n', "earth")
    with pytest.raises(UserError, match='expected mode = "core_only"'):
        scenario_from_text('body = "earth"\nmode = "coupled"\n', "earth")
    with pytest.raises(UserError, match="body in .*: expected one of moon, earth"):
        scenario_from_text('body = "mars"\n', "x")
    assert scenario_from_text("", "x", ["body=earth"]).values["r_core"] == 3480e3


def test_every_earth_default_lies_in_its_earth_bounds():
    """The registry's Earth column is usable: each Earth default (and each Moon default) is inside the
    bounds its body derives from its prior; the core parameters all have an Earth default."""
    from lunadyn.runs.spec.config import validate_value
    for name, p in PARAMS.items():
        if p.kind in ("float", "int"):
            validate_value(name, p.default, "moon defaults")
            if p.has_earth_default():
                validate_value(name, p.default_for("earth"), "earth defaults", "earth")
    core = ("r_core", "rho_core", "cp_core", "alpha_core", "k_core", "sigma_core", "latent_core", "beta_sulfur",
            "sulfur_core", "K_core_ppm", "T_cmb0", "liquidus", "liquidus_T0", "liquidus_dTdP", "liquidus_dTdc",
            "p_cmb")
    assert all(PARAMS[n].has_earth_default() for n in core)
    # an Earth prior belongs to an Earth default (else the Moon's prior applies), and keeps the Moon's scale
    for p in PARAMS.values():
        if p.earth_prior is not None:
            assert p.has_earth_default() and p.earth_prior[0] <= p.default_for("earth") <= p.earth_prior[1]
        elif not p.has_earth_default():
            assert p.bounds_for("earth") == p.bounds and p.prior_for("earth") == p.prior


def test_earth_core_only_matches_vplanet(earth):
    """The core-only Earth driven by VPLanet's core heat loss reproduces VPLanet's core: T_cmb within 1 K
    at every tabulated age, inner-core nucleation within 5 Myr of VPLanet's 0.536 Ga, and today's inner core
    within 10 km of VPLanet's 1233.7 km (tolerances: module docstring); its energy book closes."""
    assert int(earth["status"].values[0]) == 0
    age = earth["age"].values
    T = earth["T_cmb"].values[0]
    for a, Tcore in VPL_TCORE.items():
        k = int(np.argmin(np.abs(age - a)))
        assert abs(age[k] - a) < 1e-9
        assert T[k] == pytest.approx(EPS_C * Tcore, abs=1.0), a
    nuc = float(earth["age_inner_core_nucleation"].values[0])
    assert nuc == pytest.approx(VPL_NUCLEATION_GA, abs=0.005)
    r_today = float(earth["r_inner_core"].values[0, -1]) / 1e3
    assert r_today == pytest.approx(VPL_RIC_TODAY_KM, abs=10.0)
    # the same figure through VPLanet's own sensitivity: r_i - r_VPL ~ dr/dT_cmb (T - T_VPL)
    assert (r_today - VPL_RIC_TODAY_KM) * 1e3 == pytest.approx(VPL_DRICDTCMB * (T[-1] - VPL_TCMB_TODAY), abs=5e3)
    assert abs(float(earth["book_core_residual"].values[0])) <= 1e-6 * float(earth["book_core_scale"].values[0])


def test_the_earth_scenario_file_validates_with_earth_bounds():
    """The shipped scenario is an Earth scenario: with the Moon's bounds it would be refused."""
    scn = load_scenario(SCENARIO)
    assert scn.body == "earth" and scn.values["mode"] == "core_only" and scn.values["qcmb_n"] == 32
    assert np.all(np.diff(scn.values["qcmb_ages"]) > 0)
    text = SCENARIO.read_text().replace('body = "earth"', "")
    with pytest.raises(UserError, match="out of bounds"):
        scenario_from_text(text, "no body")


def test_a_sweep_spec_takes_the_body_of_its_base_or_its_own_key(tmp_path):
    """A sweep over an Earth base scenario (or with body = "earth") samples the Earth priors and checks the
    Earth bounds; the body changes no number by itself, so it is not part of the spec hash."""
    from lunadyn.runs.spec.sweep import spec_from_text
    spec = spec_from_text(f'base = "{SCENARIO}"\n[vary]\nr_core = {{}}\nk_core = {{}}\n[sampler]\nmethod = "lhs"\n'
                          'n = 8\n', "earth sweep")
    assert spec.body == "earth"
    s = spec.samples()
    assert np.all((s["r_core"] >= 3400e3) & (s["r_core"] <= 3560e3))
    assert np.all((s["k_core"] >= 30.0) & (s["k_core"] <= 150.0))
    own = spec_from_text('body = "earth"\n[vary]\nT_cmb0 = {}\n[sampler]\nmethod = "lhs"\nn = 4\n', "own")
    assert own.body == "earth" and own.values["mode"] == "core_only"
    assert np.all(own.samples()["T_cmb0"] >= 4000.0)
    with pytest.raises(UserError, match=r"r_core = .*out of bounds \(body = earth\)"):
        spec_from_text('body = "earth"\n[parameters]\nr_core = 350e3\n', "bad")
    moon = spec_from_text('[parameters]\nr_core = 350e3\n[vary]\nk_core = {}\n', "moon")   # a sweep varies something
    assert "body" not in moon.canonical["settings"] and "body" not in moon.canonical

"""Dynamo-stage parameters of the v1 model (docs/physics.md §Dynamo sources, §Defaults and calibration), declared once.

``sigma_core`` and ``sigma_bmo`` are declared with the thermal parameters (beside the layer they
describe) but are read only by the dynamo stage (their ``stage`` says so).
"""
from ..thermal.constants import R_EARTH
from ..thermal.declare import Param
import math

_P1 = "docs/physics.md §Defaults and calibration"

# Orbit models (codes = positions: the analytic models first, the published histories appended after them,
# so that stored codes never change; dynamo/orbit.py; sources in dynamo/data/README.md).
ANALYTIC_ORBITS = ("cyclostratigraphy", "dwyer", "constant_q")
TABULATED_ORBITS = (
    "farhat2022", "farhat2022_low", "farhat2022_high",
    "daher2021_pd", "daher2021_55ma", "daher2021_116ma", "daher2021_252ma",
    "tyler2021_t30", "tyler2021_t40", "tyler2021_t50",
    "webb1982_a", "webb1982_b", "webb1982_c", "webb1982_d",
)
ORBIT_NAMES = ANALYTIC_ORBITS + TABULATED_ORBITS

DYNAMO_PARAMETERS = (
    Param("law", "", "cia", "dynamo scaling law: ml, cia, mac (c = 0.63) or ca06 (docs/physics.md §Velocity and field)",
          "Christensen & Aubert 2006; Scheinberg 2018; " + _P1, "dynamo", kind="category",
          choices=("ml", "cia", "mac", "ca06")),
    Param("sources", "", ("core", "bmo", "precession"),
          "dynamo sources that feed the combined field B_surface (a source left out still takes part in the "
          "thermal evolution; only its field is off)", _P1, "dynamo", kind="set",
          choices=("core", "bmo", "precession")),
    Param("rm_crit", "1", 40.0, "critical magnetic Reynolds number for a dynamo", _P1, "dynamo"),
    Param("shell_min", "m", 10e3, "thinnest convecting shell that can host a dynamo", _P1, "dynamo"),
    Param("f_ohm", "1", 0.9, "fraction of the BMO convective power dissipated ohmically", _P1, "dynamo",
          physical=(0.0, 1.0)),
    Param("bmo_dipolarity_penalty", "1", 1.0, "factor on b_dip for a BMO dynamo (>= 1 weakens the dipole)",
          "Soderlund et al. AGU25; " + _P1, "dynamo"),
    Param("precession_dipolarity_penalty", "1", 1.0, "factor on b_dip for a precession dynamo",
          "Cebron et al. 2019; " + _P1, "dynamo"),
    Param("orbit", "", "cyclostratigraphy", "lunar orbit history a(t): an analytic model (cyclostratigraphy, "
          "dwyer, constant_q) or a published history (farhat2022[_low|_high], daher2021_*, tyler2021_*, webb1982_*)",
          "docs/physics.md §Orbit; Farhat et al. 2022; Daher et al. 2021; Tyler 2021; Webb 1982 (dynamo/data/README.md)",
          "dynamo", kind="category", choices=ORBIT_NAMES),
    Param("a_start", "m", 30.0 * R_EARTH, "semi-major axis at start_age (30 R_E) of the cyclostratigraphy and dwyer "
          "orbits (a published history is the source's own curve)", _P1, "dynamo"),
    Param("c_friction", "1", 2e-3, "turbulent skin-friction coefficient c_f (xi_t = 4 pi c_f)",
          "Dwyer et al. 2011; " + _P1, "dynamo"),
    # Calibrated (docs/physics.md §Precession calibration, VALIDATION E2): B_precession(4.2 Ga) = 1.00 uT with law = cia, orbit = dwyer,
    # the default Moon (r_i = 0 at 4.2 Ga), start_age 4.5, a_start 30 R_E. At 4.2 Ga: a = 33.601 R_E, Cassini
    # state 1, theta = -15.80 deg, theta_cm = -20.94 deg, CMB friction P = 1.113e13 W, Phi_prec = 1.082e9 W,
    # B_eq = 1.000006 uT (exact root 9.7198e-5, rounded up so that E2's B >= 1 uT holds). With it the dwyer
    # precession dynamo runs continuously 4.50-2.71 Ga (E3: 1.79 Gyr) and stops at 48 R_E (E1).
    Param("f_dyn", "1", 9.72e-5, "fraction of the CMB friction power feeding the precession dynamo "
          "(calibrated on VALIDATION E2, docs/physics.md §Precession calibration)", "calibrated on Dwyer et al. 2011; " + _P1, "dynamo",
          prior=(1e-5, 1e-2), scale="log",
          note="calibrated: B_precession(4.2 Ga) = 1.00 uT (cia, dwyer, default Moon): a = 33.60 R_E, Cassini "
               "state 1, theta_cm = -20.94 deg, Phi_prec = 1.08e9 W; dynamo 4.50-2.71 Ga (E3 1.79 Gyr, E1 48 R_E)"),
    Param("a_precession_end", "m", 48.0 * R_EARTH, "semi-major axis beyond which precession stirring stops",
          "Dwyer et al. 2011", "dynamo", prior=(44.0 * R_EARTH, 52.0 * R_EARTH)),
    Param("beta_figure", "1", 6.31e-4, "lunar figure parameter beta = (C - A)/B", _P1, "dynamo"),
    Param("inclination", "rad", math.radians(5.145), "lunar orbital inclination i to the ecliptic (5.145 deg)",
          _P1, "dynamo", physical=(0.0, math.pi / 2)),
    Param("a_cassini_transition", "m", 34.0 * R_EARTH, "semi-major axis of the Cassini state 1 -> 2 transition",
          "Ward 1975; " + _P1, "dynamo"),
)


def _code(name: str, choice: str) -> int:
    """The integer code of a categorical parameter's choice (its index in the declared choices)."""
    return next(p for p in DYNAMO_PARAMETERS if p.name == name).code(choice)


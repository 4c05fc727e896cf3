"""Thermal-stage parameters of the v1 model (docs/physics.md §Defaults and calibration), declared once.

Calibration of the default Moon (docs/physics.md §Defaults and calibration, first issue): the defaults of ``eta_ref``,
``f_hpe_basal``, ``sulfur_core`` and ``T_bmo0`` are those of the reference calibration; the figures
this implementation reaches with them are recorded in ``CALIBRATION`` below (and checked by
tests/test_thermal_behaviour.py).
"""
from .declare import BODIES, Param

_P1 = "docs/physics.md §Defaults and calibration"
# Earth defaults (the registry's "Earth default" column;
# docs/physics.md §Defaults and calibration; docs: README "Earth cores"): the
# Earth's core for cross-code validation, in core_only mode. Structure from PREM; thermal properties and the
# liquidus from Driscoll & Bercovici 2014 (DB14, PEPI 236:36, doi:10.1016/j.pepi.2014.08.004), the core of
# VPLanet's ThermInt. The linear liquidus is DB14's Lindemann law T_Fe0 exp(-2(1 - 1/(3 gamma)) r^2/D_Fe^2)
# (T_Fe0 = 5451.6 K, gamma = 1.3, D_Fe = 7000 km) replaced by its chord between the centre and today's ICB
# (1221 km), converted to pressure with this core's P(r): 9.67e-9 K/Pa for rho_c = 10,940 kg/m3.
_PREM = "PREM (Dziewonski & Anderson 1981)"
_DB14 = "Driscoll & Bercovici 2014 (VPLanet ThermInt)"
# Figures this implementation reaches with the defaults (checked by tests/test_thermal_behaviour.py):
# every band of docs/physics.md §Defaults and calibration is met, so the reference calibration is kept unchanged. Also: inner core
# nucleating (off-centre, r* = 4.3 km) at 3.434 Ga, frozen by the top-down turn (regime 2) at 3.08 Ga at
# 175.7 km; the core cools 111.8 K over the last 3 Gyr (1731.5 K -> 1619.7 K).
CALIBRATION = {
    "q_surface_today_mW_m2": 13.79,        # band 8-15
    "bmo_solidified_after_Gyr": 1.969,     # band 1-3 (at 2.531 Ga)
    "r_inner_core_today_km": 175.7,        # band 100-250
    "core_warming_fraction_3Ga": 0.0,      # band 0
}

THERMAL_PARAMETERS = (
    # --- body ---
    Param("radius", "m", 1737.1e3, "lunar radius R", "IAU; " + _P1 + "; Earth: IUGG mean radius", "thermal",
          earth=6371.0e3),
    Param("g_surface", "m s-2", 1.62, "surface gravity g_s (used throughout the mantle in v1)",
          _P1 + "; Earth: " + _PREM, "thermal", earth=9.82),
    Param("T_surface", "K", 250.0, "surface temperature T_s", _P1 + "; Earth: global mean", "thermal",
          earth=288.0),
    Param("p_cmb", "Pa", 4.4e9, "pressure at the core-mantle boundary (held fixed when r_core varies)",
          "Hamid checkLiquidus_all.m; " + _P1 + "; Earth: " + _PREM, "thermal", earth=135.75e9),
    # --- core ---
    Param("r_core", "m", 350e3, "core radius r_c", "Hamid const_Moon.m; Weber 2011; " + _P1
          + "; Earth: " + _PREM, "thermal", prior=(300e3, 400e3), earth=3480e3, earth_prior=(3400e3, 3560e3)),
    Param("rho_core", "kg m-3", 7000.0, "core density rho_c (constant-property core)", "Nimmo 2009; " + _P1
          + "; Earth: " + _PREM + " mean core density, 1.932e24 kg within 3480 km", "thermal",
          prior=(6000.0, 8000.0), earth=10940.0, earth_prior=(10000.0, 12000.0)),
    Param("cp_core", "J kg-1 K-1", 835.0, "core specific heat c_p", "Hamid const_Moon.m; Earth: " + _DB14,
          "thermal", earth=840.0),
    Param("alpha_core", "K-1", 1e-4, "core thermal expansivity alpha_c", "Nimmo 2009; Earth: " + _DB14,
          "thermal", earth=1e-5),
    Param("k_core", "W m-1 K-1", 40.0, "core thermal conductivity k_c", "Hamid sweep 10-50; Earth: "
          "Wiedemann-Franz with sigma_c = 1e6 S/m at 4000 K as " + _DB14 + "; prior from Konopkova et al. 2016 "
          "(~30) to Pozzo et al. 2012 (~150)", "thermal", prior=(10.0, 50.0), earth=100.0,
          earth_prior=(30.0, 150.0)),
    Param("sigma_core", "S m-1", 5e5, "core electrical conductivity sigma_c", "Stevenson 2003; Earth: " + _DB14
          + "; Pozzo et al. 2012", "dynamo", prior=(1e5, 1e6), scale="log", earth=1e6, earth_prior=(5e5, 2e6)),
    Param("latent_core", "J kg-1", 3.5e5, "latent heat of core crystallization L_H", "Hamid (T dS, dS = 200); "
          "Earth: " + _DB14 + " (SPECLATENTICB)", "thermal", earth=750e3),
    Param("beta_sulfur", "1", 2.3, "compositional expansion beta_S (drho/rho per unit S mass fraction)",
          "Hamid const_Moon.m; Earth: ~10 % density deficit for ~10 wt% light elements (Hirose et al. 2013)",
          "thermal", earth=1.0),
    Param("sulfur_core", "1", 0.1125, "bulk core sulfur mass fraction c0", "calibrated; " + _P1 + "; Earth: "
          "the lumped light elements, 0.10 as " + _DB14 + " (CHI_OC_E); Hirose et al. 2013", "thermal",
          prior=(0.01, 0.15), physical=(0.0, 1.0), earth=0.10, earth_prior=(0.05, 0.15)),
    Param("sulfur_eutectic", "1", 0.24, "eutectic sulfur mass fraction", "Breuer et al. 2015", "thermal",
          physical=(0.0, 1.0),
          note="Earth n/a: the light element is not S alone; the Moon's value is kept, never reached by an Earth "
               "inner core (c_oc = c0/(1 - (r_i/r_c)^3) stays near c0)"),
    Param("K_core_ppm", "ppm", 0.0, "potassium in the core", "Hamid (<50 ppm); Earth: none established "
          "(Hirose et al. 2013), prior 0-250 ppm", "thermal", prior=(0.0, 50.0), lower_open=False, earth=0.0,
          earth_prior=(0.0, 250.0)),
    Param("T_cmb0", "K", 2000.0, "initial CMB temperature (only without a basal layer)", _P1 + "; Earth: "
          + _DB14 + " (T_core 6000 K x epsilon_c 0.8)", "thermal", prior=(1800.0, 2200.0), earth=4800.0,
          earth_prior=(4000.0, 5600.0)),
    Param("liquidus", "", "buono_walker", "core liquidus: Buono & Walker 2011 polynomial or linear",
          "Buono & Walker 2011 GCA eq. 29; " + _P1 + "; Earth: linear (Buono & Walker fit lunar pressures)",
          "thermal", kind="category", choices=("buono_walker", "linear"), earth="linear"),
    Param("liquidus_T0", "K", 1862.0, "linear liquidus: T_L at the centre and c_ref", "Hamid runEnergyCalc.m; "
          "Earth: " + _DB14 + " (Lindemann T_Fe0 = TREFLIND)", "thermal", earth=5451.6),
    Param("liquidus_dTdP", "K Pa-1", 3e-8, "linear liquidus: dT_L/dP", "Hamid runEnergyCalc.m; Earth: chord "
          "of the " + _DB14 + " Lindemann liquidus, centre to ICB (module comment); Anzellini et al. 2013 "
          "~10 K/GPa", "thermal", physical=(-1e-6, 1e-6), lower_open=False, earth=9.67e-9),
    Param("liquidus_dTdc", "K", -2.5e3, "linear liquidus: dT_L/dc per unit S mass fraction",
          "Hamid runEnergyCalc.m; Earth: 0 as " + _DB14 + " (DTChiRef = 0)", "thermal", physical=(-1e5, 1e5),
          lower_open=False, earth=0.0),
    Param("liquidus_c_ref", "1", 0.06, "linear liquidus: reference sulfur mass fraction",
          "Hamid runEnergyCalc.m; Earth: the bulk light-element fraction", "thermal", physical=(0.0, 1.0),
          lower_open=False, earth=0.10),
    # --- mantle ---
    Param("T_mantle0", "K", 1700.0, "initial mantle potential temperature T_m", _P1, "thermal",
          prior=(1600.0, 1800.0)),
    Param("lid0", "m", 50e3, "initial stagnant-lid thickness D_l (>= crust_thickness)", _P1, "thermal"),
    Param("rho_mantle", "kg m-3", 3400.0, "mantle density rho_m", _P1, "thermal"),
    Param("cp_mantle", "J kg-1 K-1", 1200.0, "mantle specific heat c_m", _P1, "thermal"),
    Param("alpha_mantle", "K-1", 2e-5, "mantle thermal expansivity alpha_m", _P1, "thermal"),
    Param("k_mantle", "W m-1 K-1", 4.0, "mantle thermal conductivity k_m", "Laneuville default.yaml", "thermal"),
    Param("kappa_mantle", "m2 s-1", 1e-6, "mantle thermal diffusivity kappa", _P1, "thermal"),
    Param("E_visc", "J mol-1", 3e5, "activation energy of mantle viscosity E", _P1, "thermal"),
    Param("eta_ref", "Pa s", 1e19, "mantle viscosity at T_visc_ref", "calibrated; " + _P1, "thermal",
          prior=(1e18, 1e21), scale="log"),
    Param("T_visc_ref", "K", 1600.0, "reference temperature of the viscosity law", _P1, "thermal"),
    Param("a_rh", "1", 2.54, "rheological temperature-scale factor a_rh", "Thiriet et al. 2019", "thermal"),
    Param("Ra_crit", "1", 450.0, "critical Rayleigh number of the upper boundary layer", _P1, "thermal"),
    Param("solidus_offset", "K", -75.0, "shift of the Katz et al. 2003 dry peridotite solidus", _P1, "thermal",
          physical=(-1000.0, 1000.0), lower_open=False),
    # --- crust and heat-producing elements ---
    Param("crust_thickness", "m", 40e3, "crust thickness d_c (top of the lid)", "Wieczorek et al. 2013", "thermal"),
    Param("rho_crust", "kg m-3", 2550.0, "crust density", "GRAIL", "thermal"),
    Param("k_crust", "W m-1 K-1", 2.0, "crust thermal conductivity k_cr", _P1, "thermal"),
    Param("U_ppb", "ppb", 20.0, "bulk silicate Moon uranium", _P1, "thermal", lower_open=False),
    Param("Th_ppb", "ppb", 80.0, "bulk silicate Moon thorium", _P1, "thermal", lower_open=False),
    Param("K_ppm", "ppm", 50.0, "bulk silicate Moon potassium", _P1, "thermal", lower_open=False),
    Param("f_hpe_crust", "1", 0.3, "fraction of the heat-producing inventory in the crust f_c", _P1, "thermal",
          prior=(0.0, 0.5), physical=(0.0, 1.0), lower_open=False),
    Param("f_hpe_basal", "1", 0.075, "fraction of the heat-producing inventory in the basal layer f_b",
          "calibrated; " + _P1, "thermal", prior=(0.0, 0.5), physical=(0.0, 1.0), lower_open=False),
    # --- basal layer ---
    Param("bmo_thickness0", "m", 250e3, "initial basal-layer thickness H0 (0 = no basal layer)", _P1, "thermal",
          prior=(0.0, 500e3), lower_open=False),
    Param("T_bmo0", "K", 1900.0, "initial basal-layer temperature T_b0 (fully molten above it)",
          "calibrated; " + _P1, "thermal", prior=(1750.0, 1950.0)),
    Param("T_bmo_solidus", "K", 1700.0, "basal-layer solidus T_sol,b", _P1, "thermal"),
    Param("dT_core_bmo", "K", 0.0, "core excess over the slaved molten layer, Delta T_cb", _P1, "thermal",
          physical=(-500.0, 500.0), lower_open=False),
    Param("rho_bmo", "kg m-3", 3800.0, "basal-layer density rho_b (denser than the mantle)", _P1, "thermal"),
    Param("cp_bmo", "J kg-1 K-1", 1200.0, "basal-layer specific heat c_b", _P1, "thermal"),
    Param("alpha_bmo", "K-1", 5e-5, "basal-layer thermal expansivity alpha_b", _P1, "thermal"),
    Param("k_bmo", "W m-1 K-1", 2.0, "basal-layer thermal conductivity k_b", _P1, "thermal"),
    Param("latent_bmo", "J kg-1", 6e5, "basal-layer latent heat L_b", _P1, "thermal"),
    Param("sigma_bmo", "S m-1", 1e5, "basal magma ocean electrical conductivity sigma_b", _P1, "dynamo",
          prior=(1e2, 1e5), scale="log"),
    # --- core-only mode ---
    Param("mode", "", "coupled", "coupled mantle/basal layer/core, or core_only with a prescribed Q_cmb",
          "docs/physics.md §Core-only mode; Earth: core_only (v1 has no Earth mantle)", "thermal", kind="category",
          choices=("coupled", "core_only"), earth="core_only"),
    Param("qcmb_n", "1", 1, "core_only: number of (age, Q_cmb) knots used (1 = constant)", "docs/physics.md §Core-only mode",
          "thermal", kind="int", physical=(1, 32), lower_open=False),
    Param("qcmb_ages", "Ga", (0.0,), "core_only: ages of the prescribed Q_cmb knots", "docs/physics.md §Core-only mode",
          "thermal", kind="array", size=32, physical=(0.0, 10.0), lower_open=False),
    Param("qcmb_values", "W", (2e9,), "core_only: prescribed Q_cmb at the knots (positive outward)",
          "docs/physics.md §Core-only mode; Earth: 10 TW, within today's 5-17 TW (Jaupart et al. 2015)", "thermal",
          kind="array", size=32, physical=(-1e14, 1e14), lower_open=False, earth=(10e12,)),
)

# Which body's defaults and bounds a scenario takes (thermal/declare.py "Bodies"): a scenario key
# (``body = "earth"``), resolved when the scenario is validated; it changes no number by itself (the values
# it selects are what the spec hash covers), so it is neither a model parameter nor a spec setting.
BODY = Param("body", "", "moon", "which body's defaults and bounds the scenario takes (earth: the Earth "
             "defaults of the core parameters, core_only mode; the rest stays the Moon's)",
             "thermal/declare.py; docs/physics.md §Defaults and calibration", "scenario", kind="category", choices=BODIES)

# Spec-level settings (never swept; docs/physics.md §Three stages, §Numerics and events).
SPEC_PARAMETERS = (
    Param("start_age", "Ga", 4.5, "model start (age before present)", _P1, "spec", physical=(0.0, 4.6)),
    Param("output_step", "Ga", 0.01, "spacing of the output ages", _P1, "spec", physical=(0.0, 4.6)),
    Param("rtol", "1", 1e-6, "relative tolerance of the Runge-Kutta error control", _P1, "spec",
          physical=(1e-12, 1e-2), lower_open=False),
    Param("max_steps", "1", 20000, "maximum accepted+rejected steps per model", _P1, "spec", kind="int",
          physical=(10, 10_000_000), lower_open=False),
)


def _code(name: str, choice: str) -> int:
    """The integer code of a categorical parameter's choice (its index in the declared choices)."""
    return next(p for p in THERMAL_PARAMETERS if p.name == name).code(choice)


# named codes of the thermal categoricals, used by the Numba code instead of bare integers
LIQUIDUS_BUONO_WALKER, LIQUIDUS_LINEAR = _code("liquidus", "buono_walker"), _code("liquidus", "linear")
MODE_COUPLED, MODE_CORE_ONLY = _code("mode", "coupled"), _code("mode", "core_only")

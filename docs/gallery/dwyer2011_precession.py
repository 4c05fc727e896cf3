# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     name: python3
#   language_info:
#     name: python
# ---

# %% [markdown]
# (gallery-dwyer2011)=
# # A precession dynamo: Dwyer et al. (2011)
#
# {cite:t}`dwyer2011` proposed that the lunar core was stirred mechanically by the differential rotation
# between the precessing mantle and the core, and found a dynamo "operating continuously for more than one
# billion years", with a surface field of "more than one microtesla" at 4.2 Ga, which stops when the Moon
# recedes to about 48 Earth radii — 2.7 Ga in their orbit history. lunadyn's precession source
# ([Precession dynamo](#physics-precession-dynamo)) follows their friction law; here it runs the default
# Moon on their orbit (`orbit = "dwyer"`) and on the cyclostratigraphic one, and draws the field with the
# paper's numbers.
#
# This script runs as it is (`python docs/gallery/dwyer2011_precession.py`) and when the documentation is
# built; its figure is also written to `build/gallery/`. The bands it asserts are the validation targets
# E1–E3 of the project.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import lunadyn
from lunadyn.thermal.constants import R_EARTH

ROOT = next(p for p in (Path.cwd(), *Path.cwd().parents) if (p / "pyproject.toml").is_file())
OUT = ROOT / "build" / "gallery"
OUT.mkdir(parents=True, exist_ok=True)

# the published numbers (Dwyer, Stevenson & Nimmo 2011, abstract)
DWYER_FIELD_4P2_UT = 1.0          # "more than one microtesla" at 4.2 Ga
DWYER_SHUTOFF_RE = 48.0           # the dynamo stops when the Moon reaches ~48 R_E ...
DWYER_SHUTOFF_GA = 2.7            # ... at 2.7 Ga in their a(t)
DWYER_LIFETIME_GYR = 1.0          # "more than one billion years"

runs = {orbit: lunadyn.run(orbit=orbit, law="cia").isel(sample=0) for orbit in ("dwyer", "cyclostratigraphy")}

# %%
rows = {}
for orbit, ds in runs.items():
    on = ds["dynamo_on_precession"].values == 1
    end = float(ds["age_dynamo_end_precession"])
    rows[orbit] = {
        "B_4.2Ga_uT": float(ds["B_precession"].sel(age=4.2, method="nearest")) * 1e6,
        "end_Ga": end,
        "a_end_RE": float(ds["a_orbit"].sel(age=end)) / R_EARTH,
        "lifetime_Gyr": float(ds["age"].values[on].max()) - end,
        "continuous": bool(np.all(on[ds["age"].values >= end])),
    }
    r = rows[orbit]
    print(f"{orbit:18s} B(4.2 Ga) {r['B_4.2Ga_uT']:.3f} uT; on {r['lifetime_Gyr']:.2f} Gyr, continuously: "
          f"{r['continuous']}; stops at {r['end_Ga']:.2f} Ga at a = {r['a_end_RE']:.2f} R_E")

d = rows["dwyer"]
assert 1.0 <= d["B_4.2Ga_uT"] <= 1.01                          # E2 (the calibration of f_dyn): >= 1 uT
assert abs(d["a_end_RE"] - DWYER_SHUTOFF_RE) <= 2.0              # E1: 48 +- 2 R_E ...
assert abs(d["end_Ga"] - DWYER_SHUTOFF_GA) <= 0.05               # ... at 2.7 Ga on their a(t)
assert d["lifetime_Gyr"] >= DWYER_LIFETIME_GYR and d["continuous"]   # E3: continuously for > 1 Gyr
c = rows["cyclostratigraphy"]
assert c["end_Ga"] > d["end_Ga"] + 0.1                           # the data-calibrated orbit stops it earlier

# %%
fig, (ax, axa) = plt.subplots(2, 1, figsize=(8, 6), sharex=True, constrained_layout=True,
                              gridspec_kw={"height_ratios": [2, 1]})
for (orbit, ds), colour in zip(runs.items(), ("tab:red", "tab:blue")):
    age = ds["age"].values
    ax.plot(age, ds["B_precession"].values * 1e6, color=colour, label=f"lunadyn, orbit = {orbit}")
    axa.plot(age, ds["a_orbit"].values / R_EARTH, color=colour)
ax.errorbar([4.2], [DWYER_FIELD_4P2_UT], yerr=[[0], [0.5]], lolims=True, fmt="ko", capsize=4,
            label="Dwyer et al. 2011: > 1 uT at 4.2 Ga")
ax.axvline(DWYER_SHUTOFF_GA, color="k", ls="--", lw=1, label="their shut-off, 2.7 Ga")
ax.set(ylabel="B_precession (uT, equatorial)", title="Precession dynamo of the default Moon (law = cia)")
ax.legend(fontsize=8)
axa.axhline(DWYER_SHUTOFF_RE, color="k", ls=":", lw=1)
axa.text(4.45, DWYER_SHUTOFF_RE + 0.7, "48 R_E: a_precession_end", fontsize=8)
axa.set(xlabel="age (Ga)", ylabel="a (R_E)")
axa.invert_xaxis()
fig.savefig(OUT / "dwyer2011_precession.png", dpi=120)
plt.show()

# %% [markdown]
# ## Where lunadyn and the paper agree, and why
#
# - **The field at 4.2 Ga agrees by construction**: lunadyn has no first-principles efficiency for turning
#   CMB friction into ohmic dissipation, so its prefactor {param}`f_dyn` is calibrated on exactly this
#   number ([Precession calibration](#physics-precession-calibration)).
# - **The shut-off agrees by construction too**: {param}`a_precession_end` = 48 $R_E$ is the paper's
#   result taken as an input, not a prediction — the precession dynamo's magnetic Reynolds number stays
#   far above the threshold to the present day, so nothing in lunadyn's physics would stop it.
# - **The lifetime is a test**: with the calibration fixed at 4.2 Ga, the dynamo runs continuously from the
#   start of the model (4.5 Ga) to the shut-off, 1.8 Gyr — the paper's "more than one billion years".
#
# ## Where they differ, and why
#
# - **The orbit.** Dwyer et al.'s $a(t)$ puts 48 $R_E$ at 2.7 Ga; the cyclostratigraphic anchors at 1.4 and
#   2.46 Ga {cite:p}`meyers2018,lantink2022` put the Moon there earlier, near 2.9 Ga, and every published
#   history that meets both anchors does so at 2.9–3.3 Ga ([Orbit models](../guides/orbits.md)). On such an
#   orbit the precession dynamo is off at the Chang'e-6 age (2.807 Ga).
# - **The early field** is stronger on the cyclostratigraphic orbit at 4.2 Ga (the Moon is closer there, so
#   it spins faster and its Cassini obliquity differs), by the factor printed above; both orbits start at
#   {param}`a_start` = 30 $R_E$.
# - **The Cassini-state transition.** At {param}`a_cassini_transition` (34 $R_E$, just after 4.2 Ga on both
#   orbits) the spin axis jumps from Cassini state 1 to state 2, and the core–mantle misalignment and the
#   field jump with it: the calibration point sits on the steep flank of that jump, so the 4.2 Ga field is
#   sensitive to where the transition is put (Ward 1975 places it at 30–34 $R_E$).
# - **The field law.** lunadyn converts the dissipation to a field with the chosen scaling law and a
#   dipolarity that falls as the inner core grows; the paper's conversion is its own. The 1 µT calibration
#   absorbs the difference at 4.2 Ga, not at other ages.

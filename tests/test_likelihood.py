"""The likelihood of data/README.md, record kind by record kind, against values computed by hand."""
import csv
import math

import numpy as np
import pytest
from scipy import integrate

from lunadyn.runs.record import likelihood as L
from lunadyn.runs.errors import UserError
from lunadyn.runs.record.likelihood import LikelihoodSettings, log_likelihood
from lunadyn.runs.record.observations import COLUMNS, load_observations

AGES = np.linspace(4.5, 0.0, 91)  # the fit grid: 0.05 Ga
SQRT2PI = math.sqrt(2 * math.pi)


def Phi(z):
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


def records_file(tmp_path, *rows):
    """A record file of the given rows (dicts of the columns that matter; the rest filled in)."""
    base = {"sample": "s", "mission": "Test", "side": "nearside", "rock_type": "basalt", "site_lat_deg": "0",
            "age_ga": "3.0", "age_err_ga": "0", "age_dist": "gaussian", "b_ut": "", "b_low_ut": "",
            "b_high_ut": "", "method_class": "whole_rock", "reference": "test", "doi": "",
            "confidence": "high", "note": ""}
    path = tmp_path / "records.csv"
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(COLUMNS))
        w.writeheader()
        for i, r in enumerate(rows):
            w.writerow({**base, "id": f"r{i}", **{k: str(v) for k, v in r.items()}})
    return load_observations(path, ["all"])


def constant_field(b_eq_ut, n=1):
    return np.full((n, AGES.size), b_eq_ut * 1e-6)


# --------------------------------------------------------------------------------------------------
# site latitude


def test_unknown_site_factor_is_the_0_30_degree_average():
    """data/README.md: the factor averaged uniformly over [0, 30] deg is 1.117889."""
    f = L.band_site_factor(0.0, 30.0)
    exact = integrate.quad(lambda d: math.sqrt(1 + 3 * math.sin(math.radians(d)) ** 2), 0, 30)[0] / 30
    assert f == pytest.approx(exact, abs=1e-12)
    assert round(f, 6) == L.UNKNOWN_LAT_FACTOR_0_30 == 1.117889


def test_axial_dipole_factor_equator_pole_and_paleolatitude_average():
    assert L.site_factor(0.0) == pytest.approx(1.0)
    assert L.site_factor(90.0) == pytest.approx(2.0)
    assert L.site_factor(-41.63) == pytest.approx(math.sqrt(1 + 3 * math.sin(math.radians(41.63)) ** 2))
    s = 15.0
    brute = integrate.quad(lambda d: math.sqrt(1 + 3 * math.sin(math.radians(d)) ** 2)
                           * math.exp(-0.5 * ((d - 30) / s) ** 2), 30 - 12 * s, 30 + 12 * s)[0] / (SQRT2PI * s)
    assert L.site_factor(30.0, s) == pytest.approx(brute, rel=1e-6)


# --------------------------------------------------------------------------------------------------
# each kind at one age (age error 0: a single node)


def test_value_record_at_a_site_latitude(tmp_path):
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 5, "site_lat_deg": 30})
    x = math.log(2.0 * math.sqrt(1.75))  # B_eq 2 uT at 30 deg: factor sqrt(1 + 3/4)
    want = -0.5 * ((x - math.log(5)) / 0.5) ** 2 - math.log(SQRT2PI * 0.5)
    ll, per = log_likelihood(AGES, constant_field(2.0), obs)
    assert ll[0] == pytest.approx(want, rel=1e-12) and per[0, 0] == pytest.approx(want, rel=1e-12)


def test_whole_rock_arm_uses_its_wider_sigma(tmp_path):
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 70, "method_class": "whole_rock_arm"})
    x, s = math.log(20.0), 0.8
    want = -0.5 * ((x - math.log(70)) / s) ** 2 - math.log(SQRT2PI * s)
    assert log_likelihood(AGES, constant_field(20.0), obs)[0][0] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("b_eq, d", [(3.0, 0.0), (1.0, math.log(2.0) - math.log(1.0)),
                                     (42.0, math.log(42.0) - math.log(21.0))])
def test_range_record_flat_inside_gaussian_shoulders_outside(tmp_path, b_eq, d):
    obs = records_file(tmp_path, {"kind": "range", "b_low_ut": 2, "b_high_ut": 21})
    s = 0.5
    want = -d * d / (2 * s * s) - math.log(math.log(21 / 2) + SQRT2PI * s)
    assert log_likelihood(AGES, constant_field(b_eq), obs)[0][0] == pytest.approx(want, rel=1e-12)


def test_upper_and_lower_limits_are_normal_cdfs(tmp_path):
    obs = records_file(tmp_path, {"kind": "upper_limit", "b_ut": 7}, {"kind": "lower_limit", "b_ut": 13})
    x = math.log(10.0)
    _, per = log_likelihood(AGES, constant_field(10.0), obs)
    assert per[0, 0] == pytest.approx(math.log(Phi((math.log(7) - x) / 0.5)), rel=1e-12)
    assert per[0, 1] == pytest.approx(math.log(Phi((x - math.log(13)) / 0.5)), rel=1e-12)


def test_null_is_an_upper_limit_at_the_null_threshold(tmp_path):
    obs = records_file(tmp_path, {"kind": "null", "b_ut": 0, "method_class": "single_crystal"})
    x = math.log(0.5)
    want = math.log(Phi((math.log(1.0) - x) / 0.5))
    assert log_likelihood(AGES, constant_field(0.5), obs)[0][0] == pytest.approx(want, rel=1e-12)
    s = LikelihoodSettings(null_threshold_ut=0.1)
    want = math.log(Phi((math.log(0.1) - x) / 0.5))
    assert log_likelihood(AGES, constant_field(0.5), obs, s)[0][0] == pytest.approx(want, rel=1e-12)


def test_a_model_without_dynamo_counts_as_the_floor(tmp_path):
    """B_floor 0.01 uT: a dead dynamo is very unlikely against a 13 uT lower limit, but finite."""
    obs = records_file(tmp_path, {"kind": "lower_limit", "b_ut": 13}, {"kind": "value", "b_ut": 5})
    ll, per = log_likelihood(AGES, constant_field(0.0), obs)
    x = math.log(0.01)
    from scipy.special import log_ndtr
    assert per[0, 0] == pytest.approx(float(log_ndtr((x - math.log(13)) / 0.5)), rel=1e-12)
    assert per[0, 1] == pytest.approx(-0.5 * ((x - math.log(5)) / 0.5) ** 2 - math.log(SQRT2PI * 0.5), rel=1e-12)
    assert np.isfinite(ll[0]) and ll[0] < -100
    # a field just below the floor is the floor too
    assert log_likelihood(AGES, constant_field(0.004), obs)[0][0] == pytest.approx(ll[0], rel=1e-12)


def test_unknown_site_uses_the_band_factor(tmp_path):
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 4, "site_lat_deg": ""})
    x = math.log(3.0 * 1.1178892957406872)
    want = -0.5 * ((x - math.log(4)) / 0.5) ** 2 - math.log(SQRT2PI * 0.5)
    assert log_likelihood(AGES, constant_field(3.0), obs)[0][0] == pytest.approx(want, rel=1e-9)


# --------------------------------------------------------------------------------------------------
# age averaging


def ramp(n=1):
    """B_eq rising linearly with age: 1 uT today to 10 uT at 4.5 Ga (exactly linear between outputs)."""
    return np.tile((1.0 + 2.0 * AGES) * 1e-6, (n, 1))


def lnl_value(b_ut, b_obs, s=0.5):
    return -0.5 * ((math.log(b_ut) - math.log(b_obs)) / s) ** 2 - math.log(SQRT2PI * s)


def test_gaussian_age_average(tmp_path):
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 6, "age_ga": 2.0, "age_err_ga": 0.3})
    pdf = lambda t: math.exp(-0.5 * ((t - 2.0) / 0.3) ** 2)  # noqa: E731
    num = integrate.quad(lambda t: pdf(t) * math.exp(lnl_value(1 + 2 * t, 6)), 0.8, 3.2)[0]
    den = integrate.quad(pdf, 0.8, 3.2)[0]
    assert log_likelihood(AGES, ramp(), obs)[0][0] == pytest.approx(math.log(num / den), rel=1e-6)


def test_uniform_age_average(tmp_path):
    obs = records_file(tmp_path, {"kind": "range", "b_low_ut": 3, "b_high_ut": 4, "age_ga": 1.75,
                                  "age_err_ga": 0.75, "age_dist": "uniform"})

    def lik(t):
        x = math.log(1 + 2 * t)
        d = max(math.log(3) - x, 0) + max(x - math.log(4), 0)
        return math.exp(-d * d / 0.5) / (math.log(4 / 3) + SQRT2PI * 0.5)

    want = integrate.quad(lik, 1.0, 2.5, points=[1.0, 1.5])[0] / 1.5
    assert log_likelihood(AGES, ramp(), obs)[0][0] == pytest.approx(math.log(want), rel=1e-6)


def test_age_distribution_truncated_to_the_model_span(tmp_path):
    """A record at 4.45 +- 0.1 Ga under a model starting at 4.5 Ga: the pdf is renormalised on [0, 4.5]."""
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 8, "age_ga": 4.45, "age_err_ga": 0.1})
    pdf = lambda t: math.exp(-0.5 * ((t - 4.45) / 0.1) ** 2)  # noqa: E731
    num = integrate.quad(lambda t: pdf(t) * math.exp(lnl_value(1 + 2 * t, 8)), 4.05, 4.5)[0]
    den = integrate.quad(pdf, 4.05, 4.5)[0]
    assert log_likelihood(AGES, ramp(), obs)[0][0] == pytest.approx(math.log(num / den), rel=1e-6)


def test_blank_age_error_is_the_default_sigma(tmp_path):
    a = records_file(tmp_path, {"kind": "value", "b_ut": 6, "age_ga": 2.0, "age_err_ga": ""})
    la = log_likelihood(AGES, ramp(), a)[0][0]
    b = records_file(tmp_path, {"kind": "value", "b_ut": 6, "age_ga": 2.0, "age_err_ga": 0.05})
    assert la == pytest.approx(log_likelihood(AGES, ramp(), b)[0][0], rel=1e-14)


def test_narrow_ages_interpolate_between_output_ages(tmp_path):
    """CE-6's 2.807 +- 0.003 Ga falls between the 2.80 and 2.85 Ga outputs: B is interpolated."""
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 6, "age_ga": 2.807, "age_err_ga": 0.003})
    pdf = lambda t: math.exp(-0.5 * ((t - 2.807) / 0.003) ** 2)  # noqa: E731
    num = integrate.quad(lambda t: pdf(t) * math.exp(lnl_value(1 + 2 * t, 6)), 2.795, 2.819)[0]
    den = integrate.quad(pdf, 2.795, 2.819)[0]
    assert log_likelihood(AGES, ramp(), obs)[0][0] == pytest.approx(math.log(num / den), rel=1e-8)


# --------------------------------------------------------------------------------------------------
# the shipped record, vectorisation, settings


def test_vectorised_over_models_equals_one_at_a_time():
    obs = load_observations(select=["all"])
    rng = np.random.default_rng(3)
    B = rng.lognormal(mean=math.log(2e-6), sigma=1.5, size=(7, AGES.size))
    B[2] = 0.0
    ll, per = log_likelihood(AGES, B, obs, chunk=3)
    for i in range(7):
        li, pi = log_likelihood(AGES, B[i:i + 1], obs)
        assert li[0] == pytest.approx(ll[i], rel=1e-12)
        np.testing.assert_allclose(pi[0], per[i], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(per.sum(axis=1), ll, rtol=1e-12)
    assert per.shape == (7, 21)


def test_failed_model_has_minus_infinite_loglike():
    obs = load_observations()
    B = np.full((2, AGES.size), 1e-6)
    B[1, 40] = np.nan
    ll, _ = log_likelihood(AGES, B, obs)
    assert np.isfinite(ll[0]) and ll[1] == -np.inf


def test_settings_defaults_and_validation():
    s = LikelihoodSettings()
    assert (s.sigma("whole_rock"), s.sigma("whole_rock_arm"), s.sigma("single_crystal")) == (0.5, 0.8, 0.5)
    assert (s.B_floor_ut, s.null_threshold_ut, s.default_age_err_ga, s.paleolat_sigma_deg) == (0.01, 1.0, 0.05, 0.0)
    assert LikelihoodSettings.from_dict({"paleolat_sigma_deg": 15}).paleolat_sigma_deg == 15.0
    with pytest.raises(UserError, match="unknown likelihood setting 'sigma'"):
        LikelihoodSettings.from_dict({"sigma": 1})
    with pytest.raises(UserError, match="B_floor_ut .*positive"):
        LikelihoodSettings.from_dict({"B_floor_ut": -1})


def test_paleolatitude_uncertainty_changes_the_site_factor(tmp_path):
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 5, "site_lat_deg": 40})
    s = LikelihoodSettings(paleolat_sigma_deg=15.0)
    x = math.log(2.0 * float(L.site_factor(40.0, 15.0)))
    want = -0.5 * ((x - math.log(5)) / 0.5) ** 2 - math.log(SQRT2PI * 0.5)
    assert log_likelihood(AGES, constant_field(2.0), obs, s)[0][0] == pytest.approx(want, rel=1e-12)


# --------------------------------------------------------------------------------------------------
# which source explains a record


def test_explaining_source_is_the_largest_on_field_at_the_record_age():
    obs = load_observations(select=["id=ce6_basalt,ce5_basalt,a_breccia_0p44"])
    n = AGES.size
    core, bmo, prec = np.zeros((3, 2, n))
    # model 0: BMO (2 uT) until 2.5 Ga, then the core (0.3 uT) until 1 Ga; precession (1 uT) before 3 Ga
    bmo[0, AGES >= 2.5] = 2e-6
    core[0, (AGES < 2.5) & (AGES >= 1.0)] = 0.3e-6
    prec[0, AGES >= 3.0] = 1e-6
    # model 1: precession alone (NaN where the orbit is undefined counts as off)
    prec[1, AGES >= 2.0] = 0.5e-6
    prec[1, AGES < 0.3] = np.nan
    codes = L.explaining_source(AGES, core, bmo, prec, obs)
    names = [[L.SOURCES[c] for c in row] for row in codes]
    assert names[0] == ["bmo", "core", "none"]  # CE-6 2.807 Ga, CE-5 2.03 Ga, 0.44 Ga
    assert names[1] == ["precession", "precession", "none"]
    w = L.source_weights(codes[:, 0], [0.75, 0.25])
    assert w == {"none": 0.0, "core": 0.0, "bmo": 0.75, "precession": 0.25}


def test_vectorised_forms_agree_with_the_per_kind_reference(tmp_path):
    """The plan's two vectorised forms (interval, CDF) reproduce record_loglike/record_misfit kind by kind."""
    obs = records_file(tmp_path, {"kind": "value", "b_ut": 5}, {"kind": "range", "b_low_ut": 2, "b_high_ut": 21},
                       {"kind": "upper_limit", "b_ut": 7}, {"kind": "lower_limit", "b_ut": 13},
                       {"kind": "null", "b_ut": 0, "method_class": "single_crystal"})
    for b_eq in (0.0, 0.5, 3.0, 40.0):
        _, per, mis = log_likelihood(AGES, constant_field(b_eq), obs, misfit=True)
        x = math.log(max(b_eq, 0.01))
        for k, r in enumerate(obs.records):
            args = (0.5, r.b_ut, r.b_low_ut, r.b_high_ut, 1.0)
            assert per[0, k] == pytest.approx(float(L.record_loglike(r.kind, x, *args)), rel=1e-12, abs=1e-300)
            assert mis[0, k] == pytest.approx(float(L.record_misfit(r.kind, x, *args)), rel=1e-6, abs=1e-6)

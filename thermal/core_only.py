"""Core-only mode: the core driven by a prescribed CMB heat flow (docs/physics.md §Core-only mode).

Q_cmb(t) from up to 32 (age, Q) knots in the record (qcmb_ages in Ga, ascending; qcmb_values in W;
qcmb_n used), interpolated linearly in age and held constant beyond the end knots; qcmb_n = 1 is a
constant. For tests and for comparing with other codes' core histories.
"""
from numba import njit


@njit(cache=True)
def prescribed_cmb_flow(age, p):
    """Q_cmb(age) by linear interpolation through the record's knots (docs/physics.md §Core-only mode)."""
    n = p.qcmb_n
    if n <= 1 or age <= p.qcmb_ages[0]:
        return p.qcmb_values[0]
    if age >= p.qcmb_ages[n - 1]:
        return p.qcmb_values[n - 1]
    k = 0
    while k < n - 2 and p.qcmb_ages[k + 1] < age:
        k += 1
    a0, a1 = p.qcmb_ages[k], p.qcmb_ages[k + 1]
    w = (age - a0) / (a1 - a0)
    return p.qcmb_values[k] + w * (p.qcmb_values[k + 1] - p.qcmb_values[k])

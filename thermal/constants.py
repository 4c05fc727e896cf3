"""Physical constants of docs/physics.md §Conventions (SI units)."""
import math

G = 6.67430e-11            # gravitational constant, m^3 kg^-1 s^-2
YEAR = 365.25 * 86400.0    # s
GA = 1.0e9 * YEAR          # s in one Ga
MU0 = 4.0e-7 * math.pi     # vacuum permeability, H/m
R_GAS = 8.314462618        # gas constant, J mol^-1 K^-1
R_EARTH = 6.371e6          # m
M_EARTH = 5.972e24         # kg
M_MOON = 7.346e22          # kg

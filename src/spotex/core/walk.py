"""Random-walk arithmetic for the sim, in integers only (no float touches a price).

The PRNG is seeded from the command's data (sim seed, symbol, step), so the same
journal gives the same walk on every machine.
"""
from __future__ import annotations

import math
import random

from .numbers import SCALE

DAY_MS = 86_400_000
NORMAL_BITS = 20  # normal draws are scaled by 2**20


def normal(rng: random.Random) -> int:
    """A standard normal draw scaled by 2**20: a binomial of 1024 fair bits (mean 512,
    deviation 16) is normal to within its 1/16 grain."""
    return (rng.getrandbits(1024).bit_count() - 512) << (NORMAL_BITS - 4)


def step_sigma(volatility: int, step_ms: int) -> int:
    """The per-step standard deviation (scaled 1e8) for a daily one: x sqrt(step/day)."""
    return volatility * math.isqrt(step_ms * SCALE * SCALE // DAY_MS) // SCALE

"""The attacker of the tests: what can be worked out about hidden figures from the
published ones, by linear programming (scipy's HiGHS)."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence

import numpy as np
from scipy.optimize import linprog

from bot.stats.suppression import MIN_CELL, Figure


def feasible_ranges(values: Mapping[Hashable, int], lines: Sequence[Sequence[Hashable]],
                    figures: Mapping[Hashable, Figure], *, exact: bool = True,
                    labels: bool = True) -> dict[Hashable, tuple[float, float]]:
    """For every hidden entry, the least and greatest value consistent with everything
    published: each line's cells add up to its total (its last entry), "<5"
    means 0 to 4, "x" means 5 or more (with `labels`; without, only that counts are not
    negative). With `exact`, the attacker knows every published figure exactly
    (stronger than reality: they are rounded); otherwise only to ±2, as published."""
    hidden = [k for k in values if figures[k].hidden]
    index = {k: i for i, k in enumerate(hidden)}
    bounds = [(0, None) if not labels else (0, MIN_CELL - 1)
              if figures[k].status == "small" else (MIN_CELL, None) for k in hidden]
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for line in lines:
        row = np.zeros(len(hidden))
        known = 0.0
        slack = 0.0
        for position, k in enumerate(line):
            sign = -1.0 if position == len(line) - 1 else 1.0
            if k in index:
                row[index[k]] += sign
            else:
                published = values[k] if exact else figures[k].rounded
                known += sign * float(published or 0)
                slack += 0 if exact else 2
        if not row.any():
            continue
        if exact:
            a_eq.append(row)
            b_eq.append(-known)
        else:  # -known - slack <= row.x <= -known + slack
            a_ub.append(row)
            b_ub.append(-known + slack)
            a_ub.append(-row)
            b_ub.append(known + slack)
    ranges: dict[Hashable, tuple[float, float]] = {}
    for k in hidden:
        c = np.zeros(len(hidden))
        c[index[k]] = 1.0
        low = linprog(c, A_eq=a_eq or None, b_eq=b_eq or None, A_ub=a_ub or None,
                      b_ub=b_ub or None, bounds=bounds, method="highs")
        high = linprog(-c, A_eq=a_eq or None, b_eq=b_eq or None, A_ub=a_ub or None,
                       b_ub=b_ub or None, bounds=bounds, method="highs")
        assert low.status == 0 and high.status in (0, 3), (low.message, high.message)
        ranges[k] = (low.fun, float("inf") if high.status == 3 else -high.fun)
    return ranges

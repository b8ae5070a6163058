"""Small-cell protection of published counts. Pure functions.

Three rules, applied to every figure that leaves Amane (API, map, pages, CSV):

1. **Primary suppression.** A count under `MIN_CELL` (5), zero included, is never
   shown: it reads "<5".
2. **Complementary suppression.** Published figures are tied by additive *lines*: the
   cells of a row and the row's total, the provinces of a region and the region, the
   regions and the national total. If a line hid one entry only, subtracting the others
   from the total would give it back. So in every line the hidden entries are either
   none, or at least two of which at least one is *not* small (a figure of 5 or more,
   shown as "x"): then neither the small one nor its complement can be worked out, and
   the small one may as well be zero. Complements are the smallest figures of the line
   (among equals, the one in fewest lines), chosen deterministically, and the rule is
   applied until every line holds it (an entry hidden for one line may break another;
   hierarchies and two-way tables are solved jointly). Entries whose status was settled
   by another published table are *fixed*: they are never chosen as complements here,
   so two views never disagree. Then the table is audited as a whole: sums across
   lines, read with what the marks say ("<5": 0 to 4, "x": 5 or more), can pin a
   small cell that every line protects (`_pinned`, by linear programming); one more
   complement is hidden in its lines (or, if they are all hidden, in the lines of the
   hidden figures tied to it) until none is pinned. Fixed figures are never hidden
   for it, so a cell pinned only by them (two cells of 4 under a published margin of
   8) stays pinned: the table that owns the margin would have to hide it.
3. **Rounding.** Every figure shown is rounded to the nearest multiple of `ROUNDING_BASE`
   (5), each from its own exact count, so the same count always reads the same
   whichever view or filter produced it. Comparing two filters (a period with and
   without a month, a total with and without a region) then gives a difference known
   only to within ±4, never the exact count of the part left out.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeVar

import numpy as np
from scipy.optimize import linprog

MIN_CELL: Final = 5
ROUNDING_BASE: Final = 5
SMALL: Final = "<5"
PROTECTED: Final = "x"

K = TypeVar("K", bound=Hashable)

Status = Literal["published", "small", "protected"]


def round_count(count: int) -> int:
    """The nearest multiple of ROUNDING_BASE (halves up); a count of 5 or more never
    rounds below 5."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    rounded = (count + ROUNDING_BASE // 2) // ROUNDING_BASE * ROUNDING_BASE
    return max(rounded, MIN_CELL) if count >= MIN_CELL else rounded


@dataclass(frozen=True, slots=True)
class Figure:
    """One published count: a rounded number, or a mark saying why it is not shown."""

    status: Status
    rounded: int | None = None

    @property
    def shown(self) -> int | str:
        if self.status == "published":
            assert self.rounded is not None
            return self.rounded
        return SMALL if self.status == "small" else PROTECTED

    @property
    def hidden(self) -> bool:
        return self.status != "published"


def figure(count: int, hidden: bool) -> Figure:
    if count < MIN_CELL:
        return Figure("small")
    if hidden:
        return Figure("protected")
    return Figure("published", round_count(count))


def hidden_entries(values: Mapping[K, int], lines: Iterable[Sequence[K]], *,
                   fixed: Mapping[K, bool] | None = None) -> set[K]:
    """The entries to hide: every small one, plus complements until each line hides
    none, or two or more including one that is not small.

    `values` holds exact counts; every key of a line must be in it. `fixed` maps
    entries whose status another table settled to True (hidden) or False (published).
    A line whose only candidates are fixed or hidden is left as it is: nothing more in
    it can be hidden, and everything in it that could be recovered is already hidden
    or fixed by the table that owns it.
    """
    fixed = fixed or {}
    all_lines = [tuple(line) for line in lines]
    order = {key: index for index, key in enumerate(values)}
    # Among equal figures, hide the one in fewest lines (a province before its region):
    # it forces the fewest further complements.
    degree = {key: 0 for key in values}
    for line in all_lines:
        for key in line:
            degree[key] += 1
    hidden: set[K] = {k for k, v in values.items() if (v < MIN_CELL and k not in fixed)}
    hidden |= {k for k, is_hidden in fixed.items() if is_hidden and k in values}

    def smallest(candidates: list[K]) -> K:
        return min(candidates, key=lambda k: (values[k], degree[k], order[k]))

    while True:
        changed = True
        while changed:
            changed = False
            for line in all_lines:
                in_line = [k for k in line if k in hidden]
                if not in_line:
                    continue
                if len(in_line) >= 2 and any(values[k] >= MIN_CELL for k in in_line):
                    continue
                candidates = [k for k in line if k not in hidden and k not in fixed]
                if not candidates:
                    continue
                hidden.add(smallest(candidates))
                changed = True
        # Every line holds the rule; sums across lines, with what the marks say ("<5":
        # 0 to 4, "x": 5 or more), may still give a small cell away.
        complement = None
        for pinned in _pinned(values, all_lines, hidden):
            complement = _complement_for(pinned, all_lines, hidden, fixed, smallest)
            if complement is not None:
                break
        if complement is None:
            # None pinned, or nothing left to hide around those that are: every figure
            # tied to them is hidden or fixed by the table that owns it.
            return hidden
        hidden.add(complement)


def _complement_for(pinned: K, lines: Sequence[tuple[K, ...]], hidden: set[K],
                    fixed: Mapping[K, bool], smallest: Callable[[list[K]], K]) -> K | None:
    """The figure to hide next for a pinned entry: the smallest one that may be hidden
    in its own lines; if they are all hidden already (what pins it comes from further
    away: a column's cells all hidden, but the column totals published), in the lines
    of the hidden entries it is tied to, and so on outwards. None if there is none."""
    reached = {pinned}
    frontier = {pinned}
    seen_lines: set[int] = set()
    while frontier:
        step = [i for i, line in enumerate(lines)
                if i not in seen_lines and any(k in frontier for k in line)]
        seen_lines.update(step)
        candidates = [k for i in step for k in lines[i]
                      if k not in hidden and k not in fixed]
        if candidates:
            return smallest(list(dict.fromkeys(candidates)))
        frontier = {k for i in step for k in lines[i] if k in hidden} - reached
        reached |= frontier
    return None


def _pinned(values: Mapping[K, int], lines: Sequence[tuple[K, ...]],
            hidden: set[K]) -> Iterator[K]:
    """The small hidden entries (1 to 4) that an attacker could pin to their value, one
    after another: by linear programming over all the lines at once, knowing every
    published figure exactly (stronger than reality: they are rounded) and what each
    mark says, "<5" (0 to 4) and "x" (5 or more). The marks matter: four cells marked
    "<5" whose column is known to hold 16 all hold 4. The attacker's possibilities
    only grow when the figures are rounded, so nothing pinned here is pinned as
    published. A line that does not add up (multi-valued needs and violence types: a
    case counts in each of its needs) gives the attacker no equation and is left out."""
    exposed = [k for k in values if k in hidden and 0 < values[k] < MIN_CELL]
    if not exposed:
        return
    variables = [k for k in values if k in hidden]
    index = {k: i for i, k in enumerate(variables)}
    rows, rhs = [], []
    for line in lines:
        *parts, total = line
        if sum(values[k] for k in parts) != values[total]:
            continue
        row = np.zeros(len(variables))
        known = 0.0
        for k, sign in [*((k, 1.0) for k in parts), (total, -1.0)]:
            if k in index:
                row[index[k]] += sign
            else:
                known += sign * values[k]
        if row.any():
            rows.append(row)
            rhs.append(-known)
    if not rows:
        return
    a_eq, b_eq = np.array(rows), np.array(rhs)
    # What the marks tell: "<5" is 0 to 4, "x" is 5 or more (see `figure`).
    bounds = [(0, MIN_CELL - 1) if values[k] < MIN_CELL else (MIN_CELL, None)
              for k in variables]
    for key in exposed:
        objective = np.zeros(len(variables))
        objective[index[key]] = 1.0
        # Pinned when no other value fits: neither one less nor one more.
        low = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if low.status == 0 and low.fun <= values[key] - 1 + 1e-6:
            continue
        high = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if high.status == 3 or (high.status == 0 and -high.fun >= values[key] + 1 - 1e-6):
            continue
        yield key


def protect(values: Mapping[K, int], lines: Iterable[Sequence[K]], *,
            fixed: Mapping[K, bool] | None = None) -> dict[K, Figure]:
    """Every entry of `values` as it may be published."""
    hidden = hidden_entries(values, lines, fixed=fixed)
    return {k: figure(v, k in hidden) for k, v in values.items()}


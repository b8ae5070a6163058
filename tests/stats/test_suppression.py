"""Small-cell protection: nothing under 5 is shown, and nothing hidden can be worked
out from what is shown."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.stats.suppression import (
    MIN_CELL,
    PROTECTED,
    SMALL,
    Figure,
    figure,
    hidden_entries,
    protect,
    round_count,
)
from tests.stats.attack import feasible_ranges


def test_rounding_to_five_never_below_five() -> None:
    assert [round_count(n) for n in (0, 2, 3, 5, 7, 8, 12, 13, 122, 123)] == \
        [0, 0, 5, 5, 5, 10, 10, 15, 120, 125]


def test_small_counts_read_less_than_five_and_hidden_ones_x() -> None:
    assert figure(0, hidden=False).shown == SMALL
    assert figure(4, hidden=False).shown == SMALL
    assert figure(9, hidden=True).shown == PROTECTED
    assert figure(9, hidden=False).shown == 10


def test_one_small_cell_takes_the_smallest_other_with_it() -> None:
    values = {"a": 120, "b": 3, "c": 40, "d": 9, "total": 172}
    figures = protect(values, [["a", "b", "c", "d", "total"]], fixed={"total": False})
    assert {k: f.shown for k, f in figures.items()} == \
        {"a": 120, "b": SMALL, "c": 40, "d": PROTECTED, "total": 170}


def test_a_line_of_small_cells_hides_its_total() -> None:
    # Two provinces with 4 cases each: "<5", "<5" and a region of 8 would give both away.
    values = {"p1": 4, "p2": 4, "region": 8, "other": 50, "nation": 58}
    lines = [["p1", "p2", "region"], ["region", "other", "nation"]]
    hidden = hidden_entries(values, lines, fixed={"nation": False})
    assert hidden == {"p1", "p2", "region", "other"}


def test_fixed_entries_are_never_complements() -> None:
    values = {"a": 2, "b": 50, "total": 52}
    hidden = hidden_entries(values, [["a", "b", "total"]], fixed={"total": False})
    assert hidden == {"a", "b"}
    # With nothing else to hide, the line is left: the other table owns the total.
    assert hidden_entries({"a": 2, "t": 2}, [["a", "t"]], fixed={"t": True}) == {"a", "t"}


def _table(draw: st.DrawFn) -> tuple[dict[tuple[str, ...], int], list[list[tuple[str, ...]]]]:
    """A rows x cols table with margins, cells mostly small."""
    n_rows = draw(st.integers(2, 5))
    n_cols = draw(st.integers(2, 5))
    cell = st.one_of(st.integers(0, 6), st.integers(0, 60))
    cells = {(i, j): draw(cell) for i in range(n_rows) for j in range(n_cols)}
    values: dict[tuple[str, ...], int] = {}
    for (i, j), n in cells.items():
        values[("c", str(i), str(j))] = n
    for i in range(n_rows):
        values[("r", str(i))] = sum(cells[(i, j)] for j in range(n_cols))
    for j in range(n_cols):
        values[("k", str(j))] = sum(cells[(i, j)] for i in range(n_rows))
    values[("t",)] = sum(cells.values())
    lines = [[("c", str(i), str(j)) for j in range(n_cols)] + [("r", str(i))]
             for i in range(n_rows)]
    lines += [[("c", str(i), str(j)) for i in range(n_rows)] + [("k", str(j))]
              for j in range(n_cols)]
    lines.append([("r", str(i)) for i in range(n_rows)] + [("t",)])
    lines.append([("k", str(j)) for j in range(n_cols)] + [("t",)])
    return values, lines


tables = st.composite(_table)()


def _two_way(cells: list[list[int]]) -> tuple[dict[tuple[str, ...], int],
                                             list[list[tuple[str, ...]]]]:
    """The table `_table` would draw for these cells: rows, columns and their margins."""
    n_rows, n_cols = len(cells), len(cells[0])
    values: dict[tuple[str, ...], int] = {}
    for i, row in enumerate(cells):
        for j, n in enumerate(row):
            values[("c", str(i), str(j))] = n
        values[("r", str(i))] = sum(row)
    for j in range(n_cols):
        values[("k", str(j))] = sum(row[j] for row in cells)
    values[("t",)] = sum(map(sum, cells))
    lines = [[("c", str(i), str(j)) for j in range(n_cols)] + [("r", str(i))]
             for i in range(n_rows)]
    lines += [[("c", str(i), str(j)) for i in range(n_rows)] + [("k", str(j))]
              for j in range(n_cols)]
    lines.append([("r", str(i)) for i in range(n_rows)] + [("t",)])
    lines.append([("k", str(j)) for j in range(n_cols)] + [("t",)])
    return values, lines


@settings(max_examples=100, deadline=None)
@given(tables)
def test_no_figure_under_five_and_every_line_protected(table: tuple[dict, list]) -> None:
    values, lines = table
    figures = protect(values, lines)
    for key, fig in figures.items():
        if values[key] < MIN_CELL:
            assert fig.shown == SMALL
        if fig.status == "published":
            assert fig.rounded is not None and fig.rounded >= MIN_CELL
    for line in lines:
        hidden = [k for k in line if figures[k].hidden]
        if hidden and any(values[k] >= MIN_CELL for k in line if not figures[k].hidden):
            assert len(hidden) >= 2
            assert any(values[k] >= MIN_CELL for k in hidden)


def _assert_not_pinned(values: dict, lines: list, *, exact: bool, labels: bool) -> None:
    figures = protect(values, lines)
    ranges = feasible_ranges(values, lines, figures, exact=exact, labels=labels)
    for key, (low, high) in ranges.items():
        if figures[key].status == "small" and values[key] > 0:
            assert high - low >= 1, (key, values[key], low, high)


@settings(max_examples=60, deadline=None)
@given(tables)
def test_subtracting_exact_totals_never_pins_a_small_cell(table: tuple[dict, list]) -> None:
    """An attacker who knew every published figure exactly (they are rounded) could
    still not tell what a small cell of 1 to 4 holds: at least two values fit."""
    values, lines = table
    _assert_not_pinned(values, lines, exact=True, labels=False)


@settings(max_examples=60, deadline=None)
@given(tables)
@example(_two_way([[4, 4, 6], [4, 4, 1]]))
def test_published_figures_and_marks_never_pin_a_small_cell(table: tuple[dict, list]) -> None:
    """What is really published: rounded figures (so each known to ±2), "<5" (0 to 4)
    and "x" (5 or more)."""
    values, lines = table
    _assert_not_pinned(values, lines, exact=False, labels=True)


def test_sums_across_lines_do_not_pin_a_small_cell() -> None:
    """Found by the exact-figures test: every line holds the rule, but columns 3 and 4
    with the grand total give columns 1 and 2 together 5, row 2 takes all 5, and the
    hidden 1 of row 4 followed. The whole table is audited: one more is hidden."""
    values, lines = _two_way([[0, 0, 6, 6], [0, 5, 5, 5], [0, 0, 6, 5], [0, 0, 1, 0]])
    _assert_not_pinned(values, lines, exact=True, labels=False)
    _assert_not_pinned(values, lines, exact=False, labels=True)


def test_the_marks_with_the_totals_do_not_pin_a_small_cell() -> None:
    """Found by the published-figures test: rows (4, 4, 6) and (4, 4, 1). Every line
    held the rule and the totals alone pinned nothing, but "<5" says at most 4: columns
    1 and 2 (hidden, each two "<5") hold at most 8 each, and the grand total (23, shown
    25) less column 3 (7, shown 5) leaves them at least 16, so all four cells were 4.
    The audit reads the marks as the attacker does, and what pinned them lay outside
    their own lines (all hidden already): the complement is found further out, the
    column total. The same with the 4s elsewhere, turned on its side, and 2 x 4."""
    for cells in ([[4, 4, 6], [4, 4, 1]], [[4, 4, 4], [8, 4, 4]],
                  [[4, 4], [4, 4], [4, 8]], [[2, 4, 0, 2], [2, 4, 4, 5]]):
        values, lines = _two_way(cells)
        _assert_not_pinned(values, lines, exact=True, labels=False)
        _assert_not_pinned(values, lines, exact=False, labels=True)
    values, lines = _two_way([[4, 4, 6], [4, 4, 1]])
    assert protect(values, lines)[("k", "2")].shown == PROTECTED


def test_lines_that_do_not_add_up_are_not_equations() -> None:
    # Multi-valued needs: a case counts in each of its needs, so the cells add up to
    # more than the total; the audit must not read the line as an equation.
    values = {"shelter": 3, "legal": 40, "health": 30, "cases": 60}
    figures = protect(values, [["shelter", "legal", "health", "cases"]])
    assert figures["shelter"].shown == SMALL and figures["health"].shown == PROTECTED


def test_hidden_total_row_is_not_recovered_from_its_column() -> None:
    values = {"a": 3, "b": 7, "t": 10}
    figures = protect(values, [["a", "b", "t"]])
    assert figures["t"] == Figure("published", 10)
    ranges = feasible_ranges(values, [["a", "b", "t"]], figures)
    assert ranges["a"] == (0, 4) and ranges["b"] == (6, 10)

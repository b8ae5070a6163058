"""Anonymised figures: aggregates of cases, small-cell protection, the map, coverage gaps."""

"""Sweeps: a grid over any config keys x repeats; each (point, repeat) is one unit of the runner
(runner.py), one repeat of the headline (`headline.headline_repeat`) under the point's overrides, so
it runs locally or on a Dask cluster, is stored as it finishes and resumes like every sim's repeats.
The summary says, per grid point, which of the theory's claims hold there.
"""
from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import pandas as pd

from . import plots
from .claims import check_points
from .config import ConfigError, override
from .io import write_csv
from .report import over_repeats


def parse_grid(items: list[str]) -> dict[str, list[str]]:
    """['data.mu=0.05,0.1', 'data.k=5,10'] -> {'data.mu': ['0.05', '0.1'], 'data.k': ['5', '10']}."""
    grid = {}
    for item in items:
        key, sep, values = item.partition("=")
        if not sep or not values or "" in values.split(","):
            raise ConfigError(f"--grid {item!r} is malformed: write KEY=V1,V2,..., e.g. data.mu=0.05,0.1")
        if key in grid:
            raise ConfigError(f"--grid key {key!r} is given twice: list all its values in one --grid")
        grid[key] = values.split(",")
    return grid


class GridOption(argparse.Action):
    """--grid KEY=V1,V2,... (repeatable), parsed into the grid as the command line is read, so a
    malformed one is refused like any bad option."""

    def __call__(self, parser, namespace, value, option_string=None):
        grid = getattr(namespace, self.dest) or {}
        try:
            grid = parse_grid([f"{k}={','.join(v)}" for k, v in grid.items()] + [value])
        except ConfigError as err:
            parser.error(str(err))
        setattr(namespace, self.dest, grid)


def grid_points(grid: dict[str, list[str]]) -> list[dict[str, str]]:
    return [dict(zip(grid, combo)) for combo in itertools.product(*grid.values())]


def points(cfg, grid: dict[str, list[str]]) -> list[tuple[dict, object]]:
    """(labels, config) per grid point: the point's values as given and cfg under them (each override
    is validated before any work starts)."""
    return [(point, override(cfg, [f"{k}={v}" for k, v in point.items()])) for point in grid_points(grid)]


def summarise(results: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Mean and std over repeats of the per-repeat mean accuracy, per grid point, family, method, split."""
    s = over_repeats(results, [*keys, "family", "data", "method", "split"], ["accuracy"], sort=False)
    return s.rename(columns={"accuracy_mean": "mean", "accuracy_std": "std", "n": "count"})


def claims_per_point(verdicts: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per grid point (claims.check_points' output): claims held, failed, and the failing ones' names
    ('' when none), so a sweep says where a prediction breaks."""
    rows = []
    for point, v in verdicts.groupby(keys, sort=False):
        values = point if isinstance(point, tuple) else (point,)
        rows.append({**dict(zip(keys, values)), "claims_held": int((v.holds == True).sum()),  # noqa: E712
                     "claims_failed": int((v.holds == False).sum()),  # noqa: E712
                     "failing": "; ".join(v.claim[v.holds == False])})  # noqa: E712
    return pd.DataFrame(rows)


def failing_by_value(points: pd.DataFrame, key: str) -> dict:
    """key's value -> the claims failing at some grid point with that value (for the figure's marks)."""
    fails = points[points.claims_failed > 0]
    return {value: sorted({c for f in g.failing for c in f.split("; ")}) for value, g in fails.groupby(key)}


def summary_outputs(out: Path, keys: list[str]) -> pd.DataFrame:
    """From a sweep's results.csv as written: summary.csv (the summary with each point's claims) and
    accuracy_vs_KEY.{png,pdf} per key, marking the values where a claim fails. Returns the summary."""
    results = pd.read_csv(Path(out) / "results.csv")  # as written: the claims see what a re-check sees
    points = claims_per_point(check_points(results, keys), keys)
    table = summarise(results, keys).merge(points, on=keys, how="left")
    write_csv(table, Path(out) / "summary.csv")
    for key in keys:
        others = [k for k in keys if k != key]
        t = table if not others else table.groupby([key, "family", "data", "method", "split"],
                                                   as_index=False)[["mean", "std"]].mean()
        plots.metric_vs_knob(t, key, Path(out) / f"accuracy_vs_{key.replace('.', '_')}",
                             xlabel=key + (f" (mean over {', '.join(others)})" if others else ""),
                             failing=failing_by_value(points, key))
    return table

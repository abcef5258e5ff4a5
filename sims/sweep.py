"""A sweep: every combination of the --grid values x repeats, each point one repeat of the headline
(families and data sets as configured; by default networks on multi-view data), run in parallel.

    python sims/sweep.py --grid data.mu=0.05,0.1,0.2 repeats=3
    python sims/sweep.py --grid data.k=5,10 --backend dask --scheduler tcp://HOST:8786

Points are stored in OUT/points as they finish; rerunning the same command resumes an interrupted
sweep without recomputing them, and a corrupt point is recomputed (--jobs, --backend and --scheduler
are every sim's). Writes results.csv (tidy, one column per grid key), summary.csv (mean, std over repeats, and per grid point the claims held and failed, with the failing ones'
names), claims.csv (every claim at every point), config.json and, per grid key,
accuracy_vs_KEY.{png,pdf}, where a red mark names the claims failing at that value.
"""
from __future__ import annotations

from pathlib import Path

from multiview.headline import HeadlineConfig, headline_repeat
from multiview.sim import Sim
from multiview.sweep import GridOption, points, summary_outputs

GRID = ("--grid", dict(action=GridOption, default={}, metavar="KEY=V1,V2,...",
                       help="a swept key and its values (repeatable)"))


def report(tables, cfg: HeadlineConfig, out: Path, grid: dict) -> str:
    keys = list(grid)
    table = summary_outputs(out, keys)
    show = table[table.split == "test_single"]
    return show.pivot_table(index=[*keys, "family"], columns="method", values="mean").round(3).to_string()


SIM = Sim("sweep", __doc__, HeadlineConfig(families="nn", datasets="multiview", repeats=2), headline_repeat, report,
          points=points, data_kinds=None, jobs=2, options=(GRID,))


if __name__ == "__main__":
    SIM.main()

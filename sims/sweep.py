"""A sweep: every combination of the --grid values x repeats, each point one repeat of the headline
(families and data sets as configured; by default networks on multi-view data), run in parallel.

    python sims/sweep.py --grid data.mu=0.05,0.1,0.2 repeats=3
    python sims/sweep.py --grid data.k=5,10 --backend dask --scheduler tcp://HOST:8786

Points are stored in OUT/points as they finish; rerunning the same command resumes an interrupted
sweep without recomputing them. Writes results.csv (tidy, one column per grid key), summary.csv
(mean, std over repeats, and per grid point the claims held and failed, with the failing ones'
names), claims.csv (every claim at every point), config.json and, per grid key,
accuracy_vs_KEY.{png,pdf}, where a red mark names the claims failing at that value.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli  # noqa: E402
from multiview.cache import Store  # noqa: E402
from multiview.experiment import HeadlineConfig  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.sweep import BACKENDS, parse_grid, summary_outputs, sweep  # noqa: E402

OPTIONS = [
    ("--grid", dict(action="append", default=[], metavar="KEY=V1,V2,...", help="a swept key and its values (repeatable)")),
    ("--jobs", dict(type=int, default=2, help="parallel local workers (loky backend; default 2)")),
    ("--backend", dict(default="loky", choices=BACKENDS, help="loky: local processes; dask: a Dask cluster")),
    ("--scheduler", dict(default=None, help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")),
]


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store: Store, grid, jobs, backend,
        scheduler) -> None:
    start = time.time()
    grid = parse_grid(grid)
    if jobs < 1:
        raise cli.ConfigError(f"--jobs={jobs} is not allowed: must be an integer >= 1")
    points = Store(out / "points", force=store.force)  # the sweep's own store, beside its results
    results = sweep(cfg, grid, points, n_jobs=jobs, backend=backend, scheduler=scheduler, quiet=quiet,
                    device=device)
    write_csv(results, out / "results.csv")
    table = summary_outputs(out, list(grid))
    write_json(provenance(cfg, device, time.time() - start, store=points, sim="sweep", grid=grid, backend=backend,
                          scheduler=scheduler, jobs=jobs), out / "config.json")
    show = table[table.split == "test_single"]
    print(show.pivot_table(index=[*grid, "family"], columns="method", values="mean").round(3).to_string())
    print(f"{points.hits} of {points.hits + points.misses} points were already stored")
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(families="nn", datasets="multiview", repeats=2), run, __doc__, jobs=None,
             default_out="figures/sweep", extra=OPTIONS, argv=argv)


if __name__ == "__main__":
    main()

"""The headline: single / ensemble / KD / self-distillation / trained average, for networks (nn),
random features (rf) and the linearised network (ntk), on multi-view data and a Gaussian control.

Writes results.csv (one row per predictor, repeat and split), ensemble_size.csv, views.csv,
config.json and headline.{png,pdf} into --out, and prints the table of means over repeats.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import cli, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, maker, repeat_data, run_methods  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import headline_table  # noqa: E402


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool) -> None:
    start = time.time()
    rows, views, sizes = [], [], []
    for r in range(cfg.repeats):
        for name in cfg.datasets.split(","):
            dcfg = cfg.data if name == "multiview" else cfg.control
            train, test = repeat_data(cfg, r, device, data=dcfg)
            for family in cfg.families.split(","):
                t = time.time()
                make = maker(family, cfg, dcfg.k, train, r, device)
                res = run_methods(family, make, train, test, cfg, {"data": name, "repeat": r}, quiet)
                rows += res[0]
                views += res[1]
                sizes += res[2]
                if not quiet:
                    print(f"repeat {r} {name} {family}: {time.time() - t:.1f} s", file=sys.stderr)
    results = pd.DataFrame(rows)
    write_csv(results, out / "results.csv")
    write_csv(pd.DataFrame(sizes), out / "ensemble_size.csv")
    if views:
        write_csv(pd.DataFrame(views), out / "views.csv")
    plots.headline(results, out / "headline")
    write_json(provenance(cfg, device, time.time() - start), out / "config.json")
    print(headline_table(results).to_string())


if __name__ == "__main__":
    cli.main(HeadlineConfig(), run, __doc__, default_out="figures/ensemble_vs_ntk")

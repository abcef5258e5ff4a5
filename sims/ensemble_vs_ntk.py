"""The headline: single / ensemble / KD / self-distillation / trained average, for networks (nn),
random features (rf) and the linearised network (ntk), on multi-view data and a Gaussian control.

Writes results.csv (one row per predictor, repeat and split), ensemble_size.csv, views.csv,
config.json and headline.{png,pdf} into --out, and prints the table of means over repeats.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, headline_parts, headline_repeat, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.methods import DistillConfig  # noqa: E402
from multiview.report import headline_table  # noqa: E402


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    tables = run_repeats("ensemble_vs_ntk", headline_repeat, cfg, device, quiet, store, parts=headline_parts(cfg))
    results = tables["results"]
    write_csv(results, out / "results.csv")
    write_csv(tables["ensemble_size"], out / "ensemble_size.csv")
    if len(tables["views"]):
        write_csv(tables["views"], out / "views.csv")
    plots.headline(results, out / "headline")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="ensemble_vs_ntk"), out / "config.json")
    print(headline_table(results).to_string())
    claims.report(out)


def main(argv=None) -> None:
    # 2 students per distillation method (the package default is 3) and one worker per core (units of
    # one (data set, family) pair of a repeat): keeps the default run under 3 minutes on 2 cores
    cli.main(HeadlineConfig(distill=DistillConfig(n_students=2)), run, __doc__, default_out="figures/ensemble_vs_ntk",
             argv=argv, jobs=0)


if __name__ == "__main__":
    main()

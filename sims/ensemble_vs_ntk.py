"""The headline: single / ensemble / KD / self-distillation / trained average, for networks (nn),
random features (rf) and the linearised network (ntk), on multi-view data and a Gaussian control.

Writes results.csv (one row per predictor, repeat and split), ensemble_size.csv, views.csv,
config.json and headline.{png,pdf} into --out, and prints the table of means over repeats.
"""
from __future__ import annotations

from pathlib import Path

from multiview import plots
from multiview.headline import HeadlineConfig, headline_parts, headline_repeat
from multiview.methods import DistillConfig
from multiview.report import headline_table
from multiview.sim import Sim


def report(tables, cfg: HeadlineConfig, out: Path) -> str:
    plots.headline(tables["results"], out / "headline")
    return headline_table(tables["results"]).to_string()


# 2 students per distillation method (the package default is 3) and one worker per core (units of one
# (data set, family) pair of a repeat): keeps the default run under 3 minutes on 2 cores
SIM = Sim("ensemble_vs_ntk", __doc__, HeadlineConfig(distill=DistillConfig(n_students=2)), headline_repeat, report,
          parts=headline_parts, data_kinds=None, jobs=0)


if __name__ == "__main__":
    SIM.main()

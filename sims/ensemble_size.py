"""Ensemble size: single-view test accuracy of an ensemble of n = 1..K networks (K = 16 by default),
against the lottery's coverage prediction. If each member wins one of a class's two views at random,
a view is missed by all n members with probability 2^-n, so the fraction of (class, view) pairs the
ensemble covers is 1 - 2^-n and saturates after a few members. The same curve for rf and ntk.

Curves are averaged over random orders of the members. Writes results.csv (family, repeat,
n_members, accuracy, coverage), config.json and ensemble_size.{png,pdf}; prints the table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from multiview import methods as M, plots
from multiview.experiment import repeat_data
from multiview.families import FamiliesConfig, maker
from multiview.measure import coverage_curve, ensemble_curve, learned, member_orderings
from multiview.predictor import HasViews
from multiview.seeding import SHUFFLE, derive
from multiview.train import TrainConfig
from multiview.sim import Sim

ORDERS = 50


def one_repeat(cfg: FamiliesConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    single = test.single_view
    rows = []
    for family in cfg.families.split(","):
        models, _ = M.single(maker(family, cfg, cfg.data.k, train, r, device), train, cfg.train, quiet)
        orders = member_orderings(models.K, ORDERS, derive(cfg.seed, r, SHUFFLE))
        with torch.no_grad():
            F = models.logits(test)
            acc = ensemble_curve(F[:, single], test.y[single], orders)
            acc_all = ensemble_curve(F, test.y, orders)
        cov = coverage_curve(learned(models.phi()).cpu(), orders) if isinstance(models, HasViews) else None
        for n in range(models.K):
            rows.append({"family": family, "repeat": r, "n_members": n + 1, "accuracy": acc[n].item(),
                         "accuracy_all": acc_all[n].item(), "coverage": None if cov is None else cov[n].item()})
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: FamiliesConfig, out: Path) -> str:
    df = tables["results"]
    table = df.groupby(["family", "n_members"]).agg(accuracy=("accuracy", "mean"), std=("accuracy", "std"),
                                                     coverage=("coverage", "mean")).reset_index()
    table["theory_coverage"] = 1 - 0.5 ** table.n_members
    plots.ensemble_size(table, out / "ensemble_size")
    return table.pivot_table(index="n_members", columns="family", values=["accuracy", "coverage"]).round(3).to_string()


SIM = Sim("ensemble_size", __doc__, FamiliesConfig(train=TrainConfig(n_models=16)), one_repeat, report,
          info={"orders": ORDERS})


if __name__ == "__main__":
    SIM.main()

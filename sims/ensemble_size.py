"""Ensemble size: single-view test accuracy of an ensemble of n = 1..K networks (K = 16 by default),
against the lottery's coverage prediction. If each member wins one of a class's two views at random,
a view is missed by all n members with probability 2^-n, so the fraction of (class, view) pairs the
ensemble covers is 1 - 2^-n and saturates after a few members. The same curve for rf and ntk.

Curves are averaged over random orders of the members. Writes results.csv (family, repeat,
n_members, accuracy, coverage), config.json and ensemble_size.{png,pdf}; prints the table.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, methods as M, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, maker, repeat_data, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.measure import coverage_curve, ensemble_curve, learned, member_orderings  # noqa: E402
from multiview.seeding import derive  # noqa: E402
from multiview.train import TrainConfig  # noqa: E402

ORDERS = 50


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    single = test.single_view
    rows = []
    for family in cfg.families.split(","):
        models, _ = M.single(maker(family, cfg, cfg.data.k, train, r, device), train, cfg.train, quiet)
        orders = member_orderings(models.K, ORDERS, derive(cfg.seed, r, 99))
        with torch.no_grad():
            F = models.logits(test)
            acc = ensemble_curve(F[:, single], test.y[single], orders)
            acc_all = ensemble_curve(F, test.y, orders)
        cov = coverage_curve(learned(models.phi()).cpu(), orders) if hasattr(models, "phi") else None
        for n in range(models.K):
            rows.append({"family": family, "repeat": r, "n_members": n + 1, "accuracy": acc[n].item(),
                         "accuracy_all": acc_all[n].item(), "coverage": None if cov is None else cov[n].item()})
    return {"results": pd.DataFrame(rows)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("ensemble_size", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = df.groupby(["family", "n_members"]).agg(accuracy=("accuracy", "mean"), std=("accuracy", "std"),
                                                     coverage=("coverage", "mean")).reset_index()
    table["theory_coverage"] = 1 - 0.5 ** table.n_members
    plots.ensemble_size(table, out / "ensemble_size")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="ensemble_size",
                          orders=ORDERS), out / "config.json")
    print(table.pivot_table(index="n_members", columns="family", values=["accuracy", "coverage"]).round(3).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(train=TrainConfig(n_models=16), datasets="multiview"), run, __doc__,
             default_out="figures/ensemble_size", argv=argv)


if __name__ == "__main__":
    main()

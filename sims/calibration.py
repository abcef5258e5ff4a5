"""Calibration of single, ensemble, KD, self-distilled, label-smoothed and class-adaptive
label-smoothed networks: expected calibration error (15 bins) and reliability curves, before and after
temperature scaling. The test set is split in two: the first half fits each predictor's temperature
(and the class-adaptive smoothing), the second half measures.

The multi-view reading: a single network is confidently wrong on single-view samples of the view it
did not learn. `conf_missing` / `acc_missing` are a network's mean confidence / accuracy on the
single-view samples whose view it did not learn, `conf_learned` / `acc_learned` on those it did.
Writes results.csv (one row per predictor and repeat), reliability.csv, config.json and
calibration.{png,pdf}.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from multiview import calibration as C, methods as M, plots
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.measure import learned
from multiview.seeding import Group
from multiview.train import fit
from multiview.report import over_repeats
from multiview.sim import Sim

SMOOTHING = 0.1  # epsilon of the label-smoothed networks


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    half = len(test) // 2
    val, ev = test.subset(torch.arange(half)), test.subset(torch.arange(half, len(test)))
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    n = cfg.distill.n_students
    teachers = M.single(make, train, cfg.train, quiet)[0]
    with torch.no_grad():
        eps = C.class_adaptive_eps(teachers.logits(val).flatten(0, 1), val.y.repeat(teachers.K), cfg.data.k)
    phases = [M.kd_phase(teachers, train, cfg.distill), M.self_distill_phase(teachers, train, cfg.distill)]
    students = M.train_phases(make, phases, train, cfg.train, cfg.distill, quiet)[0]
    smoothed = fit(make(n, Group.SMOOTHED), train, replace(cfg.train, label_smoothing=SMOOTHING), quiet=quiet, desc="smoothed")[0]
    adaptive = fit(make(n, Group.ADAPTIVE), train, cfg.train, C.smoothed_cross_entropy(train.y, eps), quiet=quiet,
                   desc="class-adaptive smoothing")[0]
    rows, rel = [], []
    for method, models in (("single", teachers), ("kd", students["kd"]), ("self_distill", students["self_distill"]),
                           ("label_smoothing", smoothed), ("class_adaptive_smoothing", adaptive)):
        with torch.no_grad():
            out = C.calibration_rows(method, models.logits(val), models.logits(ev), val, ev,
                                 learned(models.phi()).cpu(), r)
        rows += out[0]
        rel += out[1]
    with torch.no_grad():
        out = C.calibration_rows("ensemble", M.ensemble_logits(teachers, val), M.ensemble_logits(teachers, ev), val, ev,
                             None, r)
    rows += out[0]
    rel += out[1]
    return {"results": pd.DataFrame(rows), "reliability": pd.concat(rel, ignore_index=True),
            "class_eps": pd.DataFrame({"repeat": r, "class": range(cfg.data.k), "eps": eps.tolist()})}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    df = tables["results"]
    values = [c for c in df.select_dtypes("number").columns if c not in ("model", "repeat")]
    table = over_repeats(df, ["method"], values, sort=False).drop(columns="n")
    plots.calibration(table, tables["reliability"], out / "calibration")
    cols = ["accuracy", "ece", "ece_scaled", "ece_single", "ece_single_scaled", "temperature",
            "conf_learned", "acc_learned", "conf_missing", "acc_missing"]
    return table.set_index("method")[[f"{c}_mean" for c in cols]].round(3).rename(columns=lambda c: c[:-5]).to_string()


SIM = Sim("calibration", __doc__, NetworkConfig(), one_repeat, report, info={"smoothing": SMOOTHING})


if __name__ == "__main__":
    SIM.main()

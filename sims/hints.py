"""Hints (FitNets style): fresh networks regress the teacher ensemble's first-layer activations, the
layer where the views live. The matched activation is class j's response to patch p,
a_{j,p} = sum_r sReLU(<w_{j,r}, x_p>), which does not depend on the order of the filters. Compared:
hints alone, hints followed by ordinary KD (same step budget per phase), KD alone.
Writes results.csv, config.json and hints.{png,pdf}.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import literature as L, methods as M, plots
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.records import accuracy_rows, model_rows
from multiview.report import by_method
from multiview.seeding import Group
from multiview.sim import Sim


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = model_rows(teachers, train, test, method="single", repeat=r)
    rows += accuracy_rows(M.ensemble_logits(teachers, train), M.ensemble_logits(teachers, test), train, test,
                          method="ensemble", repeat=r, model=-1)
    kd = M.distill(make, M.ensemble_logits(teachers, train), train, cfg.train, cfg.distill, group=Group.HINTS, quiet=quiet)[0]
    rows += model_rows(kd, train, test, method="kd", repeat=r)
    hinted = L.hints(make, teachers, train, cfg.train, cfg.distill, group=Group.HINTS, quiet=quiet)
    rows += model_rows(hinted, train, test, method="hints", repeat=r)
    rows += model_rows(L.then_kd(hinted, teachers, train, cfg.train, cfg.distill, quiet), train, test,
                       method="hints_then_kd", repeat=r)
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = by_method(tables["results"], [])
    plots.variants(table, out / "hints", title="hints (first-layer activations) vs KD from the ensemble")
    return table.round(3).to_string(index=False)


SIM = Sim("hints", __doc__, NetworkConfig(), one_repeat, report)


if __name__ == "__main__":
    SIM.main()

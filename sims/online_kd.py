"""Online and mutual distillation: peers trained together from scratch, each also matching the other
peers' averaged soft outputs (deep mutual learning: forward KL; BD-KD-style: half forward, half
reverse KL), against offline KD from as many independently trained teachers, at equal compute (both
run the training phase, then the distillation phase, with the same step counts).

Does co-training transfer views, or do the peers converge to the same lottery winner? `agreement`
is the fraction of (pair of models, class) with identical learned views (independent seeds: ~0.5).
Writes results.csv, config.json and online_kd.{png,pdf}.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from multiview import literature as L, methods as M, plots
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.records import accuracy_rows, model_rows
from multiview.measure import learned, view_agreement
from multiview.report import by_method
from multiview.sim import Sim

BALANCES = {"mutual": 0.0, "balanced": 0.5}  # method -> weight of the reverse KL


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    n = cfg.distill.n_students
    teachers = M.single(make, train, replace(cfg.train, n_models=n), quiet)[0]
    offline = M.kd(make, teachers, train, cfg.train, cfg.distill, quiet)[0]
    rows = []

    def add(method, models, **extra):
        agree = view_agreement(learned(models.phi()))
        rows.extend({**x, "agreement": agree, **extra} for x in model_rows(models, train, test, method=method, repeat=r))
        rows.extend(accuracy_rows(M.ensemble_logits(models, train), M.ensemble_logits(models, test), train, test,
                                  method=f"{method}_ensemble", repeat=r, model=-1))
    add("single", teachers)
    add("offline_kd", offline)
    for name, balance in BALANCES.items():
        first, peers = L.mutual(make, train, cfg.train, cfg.distill, n, balance, quiet=quiet)
        add(f"{name}_phase1", first)
        add(name, peers)
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    df = tables["results"]
    table = by_method(df, [])
    agree = df[df.model >= 0].groupby(["method", "repeat"]).agreement.first().groupby("method").agg(["mean", "std"])
    table = table.merge(agree.add_prefix("agreement_").reset_index(), on="method", how="left")
    plots.variants(table, out / "online_kd", references=("single", "single_ensemble"),
                   title=f"{cfg.distill.n_students} peers trained together vs offline KD from as many teachers")
    return table.round(3).to_string(index=False)


SIM = Sim("online_kd", __doc__, NetworkConfig(), one_repeat, report, info={"balances": BALANCES})


if __name__ == "__main__":
    SIM.main()

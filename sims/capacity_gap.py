"""Capacity gap and teacher assistants: students with m = 1, 2, 4, 8 filters per class (the teachers
have model.m) distilled directly from the ensemble of K teachers, and through a teacher assistant of
width ASSISTANT (itself distilled from the ensemble; student i learns from assistant i). Networks of
each width trained on the labels show what the width alone gets.
Writes results.csv (with `width`), config.json and capacity_gap.{png,pdf}.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from multiview import literature as L, methods as M, plots
from multiview.config import override
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.records import accuracy_rows, model_rows
from multiview.report import by_method
from multiview.sim import Sim

WIDTHS = (1, 2, 4, 8)
ASSISTANT = 4  # must be one of WIDTHS


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = accuracy_rows(M.ensemble_logits(teachers, train), M.ensemble_logits(teachers, test), train, test,
                         method="ensemble", repeat=r, model=-1, width=cfg.model.m)
    rows += model_rows(teachers, train, test, method="single", repeat=r, width=cfg.model.m)
    width_make = {m: maker("nn", override(cfg, [f"model.m={m}"]), cfg.data.k, train, r, device)
                  for m in set(WIDTHS) | {ASSISTANT}}
    direct = {}
    for m in sorted(WIDTHS, key=lambda m: m != ASSISTANT):  # the assistants first: they are kd_direct at their width
        own = M.single(width_make[m], train, replace(cfg.train, n_models=cfg.distill.n_students), quiet)[0]
        rows += model_rows(own, train, test, method="labels_only", repeat=r, width=m)
        direct[m] = M.kd(width_make[m], teachers, train, cfg.train, cfg.distill, quiet)[0]
        rows += model_rows(direct[m], train, test, method="kd_direct", repeat=r, width=m)
        if m < ASSISTANT:
            students = L.via_assistants(width_make[m], direct[ASSISTANT], train, cfg.train, cfg.distill, quiet)
            rows += model_rows(students, train, test, method="kd_via_assistant", repeat=r, width=m)
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = by_method(tables["results"], ["width"])
    plots.variants(table, out / "capacity_gap", x="width", xlabel="student filters per class m",
                   title=f"students narrower than the teachers (m = {cfg.model.m}); assistant m = {ASSISTANT}")
    return table.round(3).to_string(index=False)


SIM = Sim("capacity_gap", __doc__, NetworkConfig(), one_repeat, report, info={"widths": WIDTHS, "assistant": ASSISTANT})


if __name__ == "__main__":
    SIM.main()

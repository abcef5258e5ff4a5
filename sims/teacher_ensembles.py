"""Ensembles of teachers, four ways: the student matches (a) the teachers' averaged logits, (b) their
averaged probabilities at T, (c) one teacher drawn at random per step, (d) soft labels made once
(averaged probabilities at T = 1, plain cross-entropy), for 1, 2 and 10 teachers.

Which ways transfer both views of a class, and how does that depend on the number of teachers?
Writes results.csv (method = way, n_teachers), config.json and teacher_ensembles.{png,pdf}.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import literature as L, methods as M, plots
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.records import accuracy_rows, model_rows
from multiview.report import by_method
from multiview.seeding import SHUFFLE, Group, derive
from multiview.sim import Sim

TEACHERS = (1, 2, 10)


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = model_rows(teachers, train, test, method="single", n_teachers=1, repeat=r)
    phases, labels = [], []
    for n in TEACHERS:
        if n > teachers.K:
            continue
        for way in (L.WAYS if n > 1 else ("logits", "relabel")):  # one teacher: logits = probs = random
            phase, _ = L.teacher_ensemble_phase(way, Group.ENSEMBLE_WAYS, teachers.select(range(n)), train, cfg.distill,
                                                seed=derive(cfg.seed, r, SHUFFLE))
            phases.append(M.Phase(f"{way}/{n}", phase.group, phase.n, phase.loss))
            labels.append((way, n))
    students = M.train_phases(make, phases, train, cfg.train, cfg.distill, quiet)[0]
    for (way, n), p in zip(labels, phases):
        rows += model_rows(students[p.name], train, test, method=way, n_teachers=n, repeat=r)
    rows += accuracy_rows(M.ensemble_logits(teachers, train), M.ensemble_logits(teachers, test), train, test,
                          method="ensemble", n_teachers=teachers.K, repeat=r, model=-1)
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = by_method(tables["results"], ["n_teachers"])
    plots.variants(table, out / "teacher_ensembles", x="n_teachers", xlabel="teachers in the ensemble",
                   title="students of an ensemble of teachers, four ways")
    return table.round(3).to_string(index=False)


SIM = Sim("teacher_ensembles", __doc__, NetworkConfig(distill=M.DistillConfig(n_students=2)), one_repeat, report,
          info={"teachers": TEACHERS})


if __name__ == "__main__":
    SIM.main()

"""Ensembles of teachers, four ways: the student matches (a) the teachers' averaged logits, (b) their
averaged probabilities at T, (c) one teacher drawn at random per step, (d) soft labels made once
(averaged probabilities at T = 1, plain cross-entropy), for 1, 2 and 10 teachers.

Which ways transfer both views of a class, and how does that depend on the number of teachers?
Writes results.csv (method = way, n_teachers), config.json and teacher_ensembles.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, literature as L, methods as M, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, accuracy_rows, maker, model_rows, repeat_data, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import by_method  # noqa: E402
from multiview.seeding import derive  # noqa: E402

TEACHERS = (1, 2, 10)


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = model_rows(teachers, train, test, method="single", n_teachers=1, repeat=r)
    phases, labels = [], []
    for n in TEACHERS:
        if n > teachers.K:
            continue
        for way in (L.WAYS if n > 1 else ("logits", "relabel")):  # one teacher: logits = probs = random
            phase, _ = L.teacher_ensemble_phase(way, 10, teachers.select(range(n)), train, cfg.distill,
                                                seed=derive(cfg.seed, r, 99))
            phases.append(M.Phase(f"{way}/{n}", phase.group, phase.n, phase.loss))
            labels.append((way, n))
    students = M.train_phases(make, phases, train, cfg.train, cfg.distill, quiet)[0]
    for (way, n), p in zip(labels, phases):
        rows += model_rows(students[p.name], train, test, method=way, n_teachers=n, repeat=r)
    rows += accuracy_rows(M.ensemble_logits(teachers, train), M.ensemble_logits(teachers, test), train, test,
                          method="ensemble", n_teachers=teachers.K, repeat=r, model=-1)
    return {"results": pd.DataFrame(rows)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("teacher_ensembles", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = by_method(df, ["n_teachers"])
    plots.variants(table, out / "teacher_ensembles", x="n_teachers", xlabel="teachers in the ensemble",
                   title="students of an ensemble of teachers, four ways")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="teacher_ensembles",
                          teachers=TEACHERS), out / "config.json")
    print(table.round(3).to_string(index=False))
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=3, datasets="multiview", families="nn", distill=M.DistillConfig(n_students=2)),
             run, __doc__, default_out="figures/teacher_ensembles", argv=argv)


if __name__ == "__main__":
    main()

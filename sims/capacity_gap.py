"""Capacity gap and teacher assistants: students with m = 1, 2, 4, 8 filters per class (the teachers
have model.m) distilled directly from the ensemble of K teachers, and through a teacher assistant of
width ASSISTANT (itself distilled from the ensemble; student i learns from assistant i). Networks of
each width trained on the labels show what the width alone gets.
Writes results.csv (with `width`), config.json and capacity_gap.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, literature as L, methods as M, plots  # noqa: E402
from multiview.config import override  # noqa: E402
from multiview.experiment import HeadlineConfig, accuracy_rows, maker, model_rows, repeat_data, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import by_method  # noqa: E402

WIDTHS = (1, 2, 4, 8)
ASSISTANT = 4  # must be one of WIDTHS


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
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


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("capacity_gap", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = by_method(df, ["width"])
    plots.variants(table, out / "capacity_gap", x="width", xlabel="student filters per class m",
                   title=f"students narrower than the teachers (m = {cfg.model.m}); assistant m = {ASSISTANT}")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="capacity_gap",
                          widths=WIDTHS, assistant=ASSISTANT),
               out / "config.json")
    print(table.round(3).to_string(index=False))
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=3, datasets="multiview", families="nn"), run, __doc__,
             default_out="figures/capacity_gap", argv=argv)


if __name__ == "__main__":
    main()

"""Label refinery: each generation relabels the training set with the previous generation's soft
outputs (T = 1, plain cross-entropy) and trains a fresh network on them. It is the born-again chain
of sims/self_distillation.py with the relabelling loss: one mechanism, one code path
(literature.label_refinery calls methods.born_again). Both chains run here side by side from the same
generation-0 networks. Writes results.csv (with `method`), config.json and label_refinery.{png,pdf}.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import literature as L, methods as M, plots
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.records import generation_rows
from multiview.report import generation_table
from multiview.sim import Sim

GENERATIONS = 3


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = []
    for name, chain in (("label_refinery", L.label_refinery), ("born_again", M.born_again)):
        rows += generation_rows(chain(make, teachers, train, cfg.train, cfg.distill, GENERATIONS, quiet), test,
                                repeat=r, method=name)
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = generation_table(tables["results"], by=("method",))
    plots.generations(table, out / "label_refinery")
    return table.round(3).to_string(index=False)


SIM = Sim("label_refinery", __doc__, NetworkConfig(), one_repeat, report, info={"generations": GENERATIONS})


if __name__ == "__main__":
    SIM.main()

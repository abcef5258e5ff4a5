"""Self-distillation generations (born-again chains): generation 0 is a trained network; generation g
is a fresh network distilled from generation g-1 alone. Per generation: single-view test accuracy, the
fraction of (model, class) pairs with both views, and the views the chain has learned so far.

The lottery's prediction: each generation wins its own random view and keeps its teacher's, so a
class still misses a view after g generations with probability about 2^-(g+1), i.e. the chain covers
1 - 2^-(g+1) of the (class, view) pairs. Writes results.csv, config.json and
self_distillation.{png,pdf}.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import methods as M, plots
from multiview.experiment import NetworkConfig, repeat_data
from multiview.families import maker
from multiview.records import generation_rows
from multiview.report import generation_table
from multiview.sim import Sim

GENERATIONS = 4


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers, _ = M.single(make, train, cfg.train, quiet)
    chain = M.born_again(make, teachers, train, cfg.train, cfg.distill, GENERATIONS, quiet)
    rows = generation_rows(chain, test, repeat=r)
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = generation_table(tables["results"])
    plots.generations(table, out / "self_distillation")
    return table.round(3).to_string(index=False)


SIM = Sim("self_distillation", __doc__, NetworkConfig(), one_repeat, report, info={"generations": GENERATIONS})


if __name__ == "__main__":
    SIM.main()

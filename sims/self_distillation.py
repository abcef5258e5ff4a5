"""Self-distillation generations (born-again chains): generation 0 is a trained network; generation g
is a fresh network distilled from generation g-1 alone. Per generation: single-view test accuracy, the
fraction of (model, class) pairs with both views, and the views the chain has learned so far.

The lottery's prediction: each generation wins its own random view and keeps its teacher's, so a
class still misses a view after g generations with probability about 2^-(g+1), i.e. the chain covers
1 - 2^-(g+1) of the (class, view) pairs. Writes results.csv, config.json and
self_distillation.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, methods as M, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, generation_rows, maker, repeat_data, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import generation_table  # noqa: E402

GENERATIONS = 4


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers, _ = M.single(make, train, cfg.train, quiet)
    chain = M.born_again(make, teachers, train, cfg.train, cfg.distill, GENERATIONS, quiet)
    rows = generation_rows(chain, test, repeat=r)
    return {"results": pd.DataFrame(rows)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("self_distillation", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = generation_table(df)
    plots.generations(table, out / "self_distillation")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="self_distillation",
                          generations=GENERATIONS), out / "config.json")
    print(table.round(3).to_string(index=False))
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=3, datasets="multiview", families="nn"), run, __doc__,
             default_out="figures/self_distillation", argv=argv)


if __name__ == "__main__":
    main()

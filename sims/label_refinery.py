"""Label refinery: each generation relabels the training set with the previous generation's soft
outputs (T = 1, plain cross-entropy) and trains a fresh network on them. It is the born-again chain
of sims/self_distillation.py with the relabelling loss: one mechanism, one code path
(literature.label_refinery calls methods.born_again). Both chains run here side by side from the same
generation-0 networks. Writes results.csv (with `method`), config.json and label_refinery.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, literature as L, methods as M, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, generation_rows, maker, repeat_data, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import generation_table  # noqa: E402

GENERATIONS = 3


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = []
    for name, chain in (("label_refinery", L.label_refinery), ("born_again", M.born_again)):
        rows += generation_rows(chain(make, teachers, train, cfg.train, cfg.distill, GENERATIONS, quiet), test,
                                repeat=r, method=name)
    return {"results": pd.DataFrame(rows)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("label_refinery", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = generation_table(df, by=("method",))
    plots.generations(table, out / "label_refinery")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="label_refinery",
                          generations=GENERATIONS), out / "config.json")
    print(table.round(3).to_string(index=False))
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=3, datasets="multiview", families="nn"), run, __doc__,
             default_out="figures/label_refinery", argv=argv)


if __name__ == "__main__":
    main()

"""Can a single network learn both views without a teacher? Networks trained with view dropout (each
step, each multi-view training sample loses the patches of one random view with probability p, as
random crops would hide a part of an image), against KD from the ensemble of undropped networks.

Prediction: with p > 0 the training set contains single-view versions of every sample, so a network
cannot fit it with one view per class: it must learn both, and its single-view test accuracy rises
toward the ensemble's without any teacher. Writes results.csv (`knob`, `value` columns), config.json
and view_dropout.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, kd_sweep, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402

P_DROP = (0.0, 0.1, 0.25, 0.5)


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    return {"results": kd_sweep(cfg, {"train.view_dropout": P_DROP}, r, device, quiet)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("view_dropout", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = plots.kd_sweep_table(df)
    plots.kd_sweeps(table, out / "view_dropout")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="view_dropout",
                          p_drop=P_DROP), out / "config.json")
    show = table.pivot_table(index="value", columns="method", values=["mean", "both_views"]).round(3)
    print(show.to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=2, datasets="multiview", families="nn"), run, __doc__,
             default_out="figures/view_dropout", argv=argv)


if __name__ == "__main__":
    main()

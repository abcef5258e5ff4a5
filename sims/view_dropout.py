"""Can a single network learn both views without a teacher? Networks trained with view dropout (each
step, each multi-view training sample loses the patches of one random view with probability p, as
random crops would hide a part of an image), against KD from the ensemble of undropped networks.

Prediction: with p > 0 the training set contains single-view versions of every sample, so a network
cannot fit it with one view per class: it must learn both, and its single-view test accuracy rises
toward the ensemble's without any teacher. Writes results.csv (`knob`, `value` columns), config.json
and view_dropout.{png,pdf}.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.experiment import NetworkConfig
from multiview.variants import kd_sweep
from multiview.sim import Sim

P_DROP = (0.0, 0.1, 0.25, 0.5)


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    return {"results": kd_sweep(cfg, {"train.view_dropout": P_DROP}, r, device, quiet)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = plots.kd_sweep_table(tables["results"])
    plots.kd_sweeps(table, out / "view_dropout")
    return table.pivot_table(index="value", columns="method", values=["mean", "both_views"]).round(3).to_string()


SIM = Sim("view_dropout", __doc__, NetworkConfig(repeats=2), one_repeat, report, info={"p_drop": P_DROP})


if __name__ == "__main__":
    SIM.main()

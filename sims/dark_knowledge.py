"""Does KD's gain come from dark knowledge? KD from the ensemble of K networks as one thing changes:
the weight of the off-class ("dark") features in multi-view data (0 = nothing for the soft labels to
teach), the KD temperature T, the soft-label weight alpha, and label smoothing epsilon of the teachers
(Mueller et al.: smoothed teachers distil worse).

The theory predicts: no gain over single at dark weight 0, growing with it; smoothed teachers keep
less. Writes results.csv (with `knob` and `value` columns), config.json and dark_knowledge.{png,pdf}.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.experiment import NetworkConfig
from multiview.variants import kd_sweep
from multiview.sim import Sim

SWEEPS = {  # the default of each knob is in its list: that run is shared by every panel
    "data.dark_weight": (0.0, 0.2, 0.4, 0.8),
    "distill.T": (1, 4, 16),
    "distill.alpha": (0.5, 1.0),
    "train.label_smoothing": (0.0, 0.1, 0.2),
}


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    return {"results": kd_sweep(cfg, SWEEPS, r, device, quiet)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = plots.kd_sweep_table(tables["results"])
    plots.kd_sweeps(table, out / "dark_knowledge")
    return table.pivot_table(index=["knob", "value"], columns="method", values="mean").round(3).to_string()


SIM = Sim("dark_knowledge", __doc__, NetworkConfig(repeats=2), one_repeat, report, info={"sweeps": SWEEPS})


if __name__ == "__main__":
    SIM.main()

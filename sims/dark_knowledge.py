"""Does KD's gain come from dark knowledge? KD from the ensemble of K networks as one thing changes:
the weight of the off-class ("dark") features in multi-view data (0 = nothing for the soft labels to
teach), the KD temperature T, the soft-label weight alpha, and label smoothing epsilon of the teachers
(Mueller et al.: smoothed teachers distil worse).

The theory predicts: no gain over single at dark weight 0, growing with it; smoothed teachers keep
less. Writes results.csv (with `knob` and `value` columns), config.json and dark_knowledge.{png,pdf}.
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

SWEEPS = {  # the default of each knob is in its list: that run is shared by every panel
    "data.dark_weight": (0.0, 0.2, 0.4, 0.8),
    "distill.T": (1, 4, 16),
    "distill.alpha": (0.5, 1.0),
    "train.label_smoothing": (0.0, 0.1, 0.2),
}


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    return {"results": kd_sweep(cfg, SWEEPS, r, device, quiet)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("dark_knowledge", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = plots.kd_sweep_table(df)
    plots.kd_sweeps(table, out / "dark_knowledge")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="dark_knowledge",
                          sweeps=SWEEPS), out / "config.json")
    print(table.pivot_table(index=["knob", "value"], columns="method", values="mean").round(3).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=2, datasets="multiview", families="nn"), run, __doc__,
             default_out="figures/dark_knowledge", argv=argv)


if __name__ == "__main__":
    main()

"""The view lottery: K seeds trained on one data set; which views of each class did each seed learn?

Writes views.csv, results.csv, phi_history.csv, config.json, views_heatmap.{png,pdf} and
lottery.{png,pdf} into --out, and prints a summary per repeat.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import cli, plots  # noqa: E402
from multiview.experiment import (ExperimentConfig, accuracy_rows, evaluate, history_rows,  # noqa: E402
                                  repeat_data, train_models, view_rows)
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.measure import learned, view_summary  # noqa: E402
from multiview.model import phi  # noqa: E402


def run(cfg: ExperimentConfig, out: Path, device: str, quiet: bool) -> None:
    start = time.time()
    results, views, hists, summary = [], [], [], []
    for r in range(cfg.repeats):
        train, test = repeat_data(cfg, r, device)
        params, hist = train_models(cfg, train, r, device=device, quiet=quiet, desc=f"repeat {r}")
        F_train, F_test = evaluate(params, train, test)
        rows = accuracy_rows(F_train, F_test, train, test, family="nn", data=cfg.data.kind,
                             method="single", repeat=r)
        results += rows
        views += view_rows(params, test, r)
        hists.append(history_rows(hist, r))
        acc = pd.DataFrame(rows).groupby("split").accuracy.mean()
        summary.append({"repeat": r, **acc.to_dict(), **view_summary(learned(phi(params).cpu())),
                        "steps": hist.stopped_at.float().mean().item()})
    views_df, hist_df = pd.DataFrame(views), pd.concat(hists)
    write_csv(pd.DataFrame(results), out / "results.csv")
    write_csv(views_df, out / "views.csv")
    write_csv(hist_df, out / "phi_history.csv")
    plots.views_heatmap(views_df, out / "views_heatmap")
    plots.phi_trajectories(hist_df, out / "lottery")
    table = pd.DataFrame(summary).set_index("repeat")
    write_json(provenance(cfg, device, time.time() - start), out / "config.json")
    print(table.round(3).to_string())
    print("mean over repeats:\n" + table.mean().round(3).to_string())


if __name__ == "__main__":
    cli.main(ExperimentConfig(), run, __doc__, default_out="figures/views_per_seed")

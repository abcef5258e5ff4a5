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
from multiview import claims, cli, plots  # noqa: E402
from multiview.experiment import (ExperimentConfig, accuracy_rows, evaluate, history_rows,  # noqa: E402
                                  repeat_data, run_repeats, train_models, view_rows)
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.measure import learned, view_summary  # noqa: E402
from multiview.model import phi  # noqa: E402


def one_repeat(cfg: ExperimentConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    params, hist = train_models(cfg, train, r, device=device, quiet=quiet, desc=f"repeat {r}")
    F_train, F_test = evaluate(params, train, test)
    rows = accuracy_rows(F_train, F_test, train, test, family="nn", data=cfg.data.kind, method="single", repeat=r)
    acc = pd.DataFrame(rows).groupby("split").accuracy.mean()
    summary = {"repeat": r, **acc.to_dict(), **view_summary(learned(phi(params).cpu())),
               "steps": hist.stopped_at.float().mean().item()}
    return {"results": pd.DataFrame(rows), "views": pd.DataFrame(view_rows(params, test, r)),
            "phi_history": history_rows(hist, r), "summary": pd.DataFrame([summary])}


def run(cfg: ExperimentConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    tables = run_repeats("views_per_seed", one_repeat, cfg, device, quiet, store)
    write_csv(tables["results"], out / "results.csv")
    write_csv(tables["views"], out / "views.csv")
    write_csv(tables["phi_history"], out / "phi_history.csv")
    plots.views_heatmap(tables["views"], out / "views_heatmap")
    plots.phi_trajectories(tables["phi_history"], out / "lottery")
    table = tables["summary"].set_index("repeat")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="views_per_seed"), out / "config.json")
    print(table.round(3).to_string())
    print("mean over repeats:\n" + table.mean().round(3).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(ExperimentConfig(), run, __doc__, default_out="figures/views_per_seed", argv=argv)


if __name__ == "__main__":
    main()

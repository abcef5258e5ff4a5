"""The view lottery: K seeds trained on one data set; which views of each class did each seed learn?

And the lottery predicted before training (multiview.lottery): for each (model, class) the init's
score S_{i,l} Lambda_{i,l}^(q-2) names the view that will win. Prediction (Allen-Zhu & Li): the
predicted view is the one learned on at least 90% of the one-view pairs, failing only near a tie
(log score ratio ~ 0, where both views may be learned); and training the same models from the init
with each class's two view coordinates swapped (same data, noise coordinates and everything else)
swaps the winner on at least 85% of the pairs that learn one view in both runs.

Writes views.csv (with the init's `predicted` view and `log_ratio`), swap.csv, results.csv,
phi_history.csv, config.json, views_heatmap, lottery, lottery_prediction and lottery_swap
({png,pdf}) into --out, and prints a summary per repeat.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, plots  # noqa: E402
from multiview.experiment import (ExperimentConfig, accuracy_rows, evaluate, history_rows, maker,  # noqa: E402
                                  repeat_data, run_repeats, view_rows)
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.lottery import init_scores, prediction_columns, swap_rows, swap_views, view_pairs  # noqa: E402
from multiview.measure import learned, view_summary  # noqa: E402
from multiview.model import phi  # noqa: E402
from multiview.train import fit  # noqa: E402


def one_repeat(cfg: ExperimentConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    start = maker("nn", cfg, cfg.data.k, train, r, device)(cfg.train.n_models, 0)  # train_models' init

    def train_from(init, desc):
        return fit(init, train, cfg.train, quiet=quiet, seed=init.seed, desc=desc)

    params, hist = train_from(start, f"repeat {r}")
    swapped, _ = train_from(swap_views(start), f"repeat {r}, swapped init")
    F_train, F_test = evaluate(params, train, test)
    rows = accuracy_rows(F_train, F_test, train, test, family="nn", data=cfg.data.kind, method="single", repeat=r)
    scores = init_scores(start, train)
    views = pd.DataFrame(view_rows(params, test, r)).assign(**prediction_columns(scores))
    learn = learned(phi(params).cpu())
    swap = swap_rows(learn, learned(phi(swapped)), scores, init_scores(swap_views(start), train), r)
    acc = pd.DataFrame(rows).groupby("split").accuracy.mean()
    summary = {"repeat": r, **acc.to_dict(), **view_summary(learn),
               "steps": hist.stopped_at.float().mean().item(),
               "predicted": view_pairs(views).hit.mean(), "swap_changed": swap.changed.mean()}
    return {"results": pd.DataFrame(rows), "views": views, "phi_history": history_rows(hist, r),
            "swap": swap, "summary": pd.DataFrame([summary])}


def run(cfg: ExperimentConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    tables = run_repeats("views_per_seed", one_repeat, cfg, device, quiet, store)
    write_csv(tables["results"], out / "results.csv")
    write_csv(tables["views"], out / "views.csv")
    write_csv(tables["phi_history"], out / "phi_history.csv")
    write_csv(tables["swap"], out / "swap.csv")
    plots.views_heatmap(tables["views"], out / "views_heatmap")
    plots.phi_trajectories(tables["phi_history"], out / "lottery")
    plots.lottery_prediction(tables["views"], out / "lottery_prediction")
    plots.lottery_swap(tables["swap"], out / "lottery_swap")
    table = tables["summary"].set_index("repeat")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="views_per_seed"), out / "config.json")
    print(table.round(3).to_string())
    print("mean over repeats:\n" + table.mean().round(3).to_string())
    print("predicted: the init's predicted view is the one learned, on one-view pairs; swap_changed: the winner "
          "moved to the other view when trained from the swapped init (pairs with one view in both runs)")
    claims.report(out)


def main(argv=None) -> None:
    cli.main(ExperimentConfig(), run, __doc__, default_out="figures/views_per_seed", argv=argv)


if __name__ == "__main__":
    main()

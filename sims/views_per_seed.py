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

from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.experiment import ExperimentConfig, evaluate, repeat_data
from multiview.families import maker
from multiview.records import accuracy_rows, history_rows, view_rows
from multiview.lottery import init_scores, prediction_columns, swap_rows, swap_views, view_pairs
from multiview.measure import learned, view_summary
from multiview.model import phi
from multiview.train import fit
from multiview.sim import Sim


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


def report(tables, cfg: ExperimentConfig, out: Path) -> str:
    plots.views_heatmap(tables["views"], out / "views_heatmap")
    plots.phi_trajectories(tables["phi_history"], out / "lottery")
    plots.lottery_prediction(tables["views"], out / "lottery_prediction")
    plots.lottery_swap(tables["swap"], out / "lottery_swap")
    table = tables["summary"].set_index("repeat")
    return "\n".join([table.round(3).to_string(), "mean over repeats:\n" + table.mean().round(3).to_string(),
                      "predicted: the init's predicted view is the one learned, on one-view pairs; swap_changed: the "
                      "winner moved to the other view when trained from the swapped init (pairs with one view in both "
                      "runs)"])


SIM = Sim("views_per_seed", __doc__, ExperimentConfig(), one_repeat, report)


if __name__ == "__main__":
    SIM.main()

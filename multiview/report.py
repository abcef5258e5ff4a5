"""Summaries of results.csv: average over models within a repeat, then mean and std over repeats."""
from __future__ import annotations

import pandas as pd

METHOD_ORDER = ["single", "ensemble", "kd", "kd_ensemble", "self_distill", "self_distill_teacher", "label_control",
                "train_average"]


def per_repeat(results: pd.DataFrame) -> pd.DataFrame:
    keys = ["data", "family", "method", "split", "repeat"]
    return results.groupby(keys, sort=False).accuracy.mean().reset_index()


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """(data, family, method, split) -> mean, std over repeats, n repeats."""
    g = per_repeat(results).groupby(["data", "family", "method", "split"], sort=False).accuracy
    return pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1).fillna(0.0), "n": g.size()}).reset_index()


def headline_table(results: pd.DataFrame) -> pd.DataFrame:
    """Rows (data, family, method); columns per split: 'mean +- std' over repeats."""
    s = summary(results)
    s["cell"] = s["mean"].map("{:.3f}".format) + " +- " + s["std"].map("{:.3f}".format)
    t = s.pivot_table(index=["data", "family", "method"], columns="split", values="cell", aggfunc="first")
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    t = t.reset_index()
    t["_o"] = t.method.map(order)
    t = t.sort_values(["data", "family", "_o"]).drop(columns="_o").set_index(["data", "family", "method"])
    cols = [c for c in ("train", "test", "test_multi", "test_single") if c in t.columns]
    return t[cols].fillna("")

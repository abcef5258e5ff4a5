"""Summaries of results.csv: average over models within a repeat, then mean and std over repeats."""
from __future__ import annotations

import pandas as pd

METHOD_ORDER = ["single", "ensemble", "kd", "kd_ensemble", "self_distill", "self_distill_teacher", "label_control",
                "train_average", "kd_paper", "self_distill_paper"]


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


def by_method(results: pd.DataFrame, by: list[str], split: str = "test_single") -> pd.DataFrame:
    """(by..., method) -> mean and std over repeats of the per-repeat accuracy on `split` and of the
    fraction of classes with both views (columns acc_mean, acc_std, both_mean, both_std, n)."""
    r = results[results.split == split]
    cols = {"accuracy": "acc"} | ({"both_views": "both"} if "both_views" in r else {})
    per = r.groupby(by + ["method", "repeat"], sort=False, dropna=False)[list(cols)].mean().reset_index()
    g = per.groupby(by + ["method"], sort=False, dropna=False)
    out = pd.concat({f"{cols[c]}_{stat}": getattr(g[c], stat)() for c in cols for stat in ("mean", "std")}, axis=1)
    out["n"] = g.size()
    return out.reset_index()


def generation_table(df: pd.DataFrame, by: tuple = ()) -> pd.DataFrame:
    """Born-again chains (experiment.generation_rows): per (by..., generation) mean and std over repeats
    of single-view accuracy, both-view rate and chain coverage, with the lottery's 1 - 2^-(g+1)."""
    keys = list(by) + ["generation"]
    per = df.groupby(keys + ["repeat"]).mean(numeric_only=True)
    table = per.groupby(keys).agg(["mean", "std"])[["test_single", "both_views", "chain_coverage"]]
    table.columns = [f"{a}_{b}" for a, b in table.columns]
    table = table.reset_index()
    table["theory_coverage"] = 1 - 0.5 ** (table.generation + 1)
    return table

"""Summaries of results.csv: average over models within a repeat, then mean and std over repeats
(`over_repeats`, the one place that rule is written)."""
from __future__ import annotations

import pandas as pd


def over_repeats(df: pd.DataFrame, by: list[str], cols: list[str], stats=("mean", "std"), **groupby) -> pd.DataFrame:
    """Each col's mean over the rows of a (by..., repeat) -- the models of one repeat -- then `stats`
    over the repeats: one row per `by` group, columns COL_STAT and n (the repeats). groupby: e.g.
    sort=False, dropna=False. Repeats are independent draws, models within one are not, so the
    spread is taken over repeats only."""
    per = df.groupby([*by, "repeat"], **groupby)[cols].mean()
    g = per.groupby(level=list(range(len(by))), **groupby)
    out = pd.concat({f"{c}_{s}": getattr(g[c], s)() for c in cols for s in stats}, axis=1)
    out["n"] = g.size()
    return out.reset_index()

METHOD_ORDER = ["single", "ensemble", "kd", "kd_ensemble", "self_distill", "self_distill_teacher", "label_control",
                "train_average", "kd_paper", "self_distill_paper"]


def summary(results: pd.DataFrame) -> pd.DataFrame:
    """(data, family, method, split) -> mean, std over repeats (0 for one repeat), n repeats."""
    s = over_repeats(results, ["data", "family", "method", "split"], ["accuracy"], sort=False)
    return s.rename(columns={"accuracy_mean": "mean", "accuracy_std": "std"}).fillna({"std": 0.0})


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
    out = over_repeats(r, by + ["method"], list(cols), sort=False, dropna=False)
    return out.rename(columns={f"{c}_{s}": f"{a}_{s}" for c, a in cols.items() for s in ("mean", "std")})


def generation_table(df: pd.DataFrame, by: tuple = ()) -> pd.DataFrame:
    """Born-again chains (records.generation_rows): per (by..., generation) mean and std over repeats
    of single-view accuracy, both-view rate and chain coverage, with the lottery's 1 - 2^-(g+1)."""
    table = over_repeats(df, list(by) + ["generation"], ["test_single", "both_views", "chain_coverage"]).drop(columns="n")
    table["theory_coverage"] = 1 - 0.5 ** (table.generation + 1)
    return table

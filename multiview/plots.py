"""Figures, one function per kind. Each reads tidy tables (never training state) and writes PNG + PDF."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt  # headless machines fall back to Agg by themselves; notebooks inline
import numpy as np
import pandas as pd

from .io import atomic_write
from .report import over_repeats
from .measure import LEARNED_PHI

VIEW_COLORS = ("#1f77b4", "#d62728")


def save(fig, path: Path | None):
    """Write path.png and path.pdf atomically and return both paths; with path None return the
    figure itself (notebooks show it)."""
    if path is None:
        return fig
    paths = [Path(path).with_suffix(ext) for ext in (".png", ".pdf")]
    for p in paths:
        atomic_write(p, lambda tmp, p=p: fig.savefig(tmp, dpi=150, bbox_inches="tight", format=p.suffix[1:]))
    plt.close(fig)
    return paths


def samples(ds, path: Path | None = None, n_classes: int | None = None):
    """One multi-view and one single-view sample as images: patches (rows) x features (columns, v_{j,1}
    and v_{j,2} per class j), colour = the patch's weight on the feature. Boxes: the sample's class."""
    F = ds.feature_weight.shape[1]
    if F == 0:
        raise ValueError("samples: this data set has no features to draw (gaussian control)")
    shown = min(F, 2 * (n_classes or F // 2))
    picks = [("multi-view", (~ds.single_view).nonzero()), ("single-view", ds.single_view.nonzero())]
    picks = [(name, idx[0, 0].item()) for name, idx in picks if len(idx)]
    vmax = max(ds.X[i, :, :shown].max().item() for _, i in picks)
    fig, axes = plt.subplots(1, len(picks), figsize=(0.32 * shown * len(picks) + 1.5, 0.32 * ds.X.shape[1] + 1.6),
                             squeeze=False)
    for ax, (name, i) in zip(axes[0], picks):
        im = ax.imshow(ds.X[i, :, :shown].cpu().numpy(), cmap="Greys", aspect="equal",
                       norm=matplotlib.colors.PowerNorm(0.5, vmin=0, vmax=vmax))  # faint dark features visible
        y = ds.y[i].item()
        if 2 * y < shown:
            ax.add_patch(plt.Rectangle((2 * y - 0.5, -0.5), 2, ds.X.shape[1], fill=False, ec="#d62728", lw=2))
        for c in range(1, shown // 2):
            ax.axvline(2 * c - 0.5, color="#bbbbbb", lw=0.5)
        ax.set_xticks(range(shown), [f"{c}.{l + 1}" for c in range(shown // 2) for l in range(2)], fontsize=6,
                      rotation=90)
        ax.set_xlabel("feature v_{j,l} (j.l)")
        ax.set_ylabel("patch p")
        ax.set_title(f"{name} sample, class {y}", fontsize=10)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="weight on the feature")
    return save(fig, path)


def views_heatmap(views: pd.DataFrame, path: Path | None, repeat: int = 0) -> list[Path]:
    """Models x (class, view) grid of log10 Phi, learned views outlined: the lottery's outcome."""
    v = views[views.repeat == repeat]
    K, k = v.model.nunique(), v["class"].nunique()
    grid = v.pivot_table(index="model", columns=["class", "view"], values="phi").to_numpy()
    lrn = v.pivot_table(index="model", columns=["class", "view"], values="learned").to_numpy()
    fig, ax = plt.subplots(figsize=(0.42 * 2 * k + 1.5, 0.35 * K + 1.4))
    im = ax.imshow(np.log10(np.clip(grid, 1e-4, None)), cmap="magma", aspect="auto", vmin=-4)
    rows, cols = np.nonzero(lrn)
    ax.scatter(cols, rows, marker="o", s=18, c="#2ca02c", edgecolors="white", linewidths=0.6)
    for c in range(1, k):
        ax.axvline(2 * c - 0.5, color="white", lw=1.5)
    ax.set_xticks(range(2 * k), [f"{c}.{l}" for c in range(k) for l in range(2)], fontsize=7)
    ax.set_yticks(range(K))
    ax.set_xlabel("class.view  (green dot: learned, Phi >= %g)" % LEARNED_PHI)
    ax.set_ylabel("model (seed)")
    ax.set_title(f"Which views each seed learned (repeat {repeat})")
    fig.colorbar(im, ax=ax, label="log10 Phi_{j,l} = log10 max_r <w_{j,r}, v_{j,l}>")
    return save(fig, path)


def phi_trajectories(hist: pd.DataFrame, path: Path, repeat: int = 0, models=(0, 1, 2),
                     classes=(0, 1, 2, 3)) -> list[Path]:
    """Phi_{j,0}(t) and Phi_{j,1}(t) per (model, class): each seed's winner takes off, the loser stays."""
    h = hist[hist.repeat == repeat]
    models = [m for m in models if m in set(h.model)]
    fig, axes = plt.subplots(len(models), len(classes), figsize=(2.6 * len(classes), 2.0 * len(models)),
                             sharex=True, sharey=True, squeeze=False)
    for a, m in enumerate(models):
        for b, c in enumerate(classes):
            ax = axes[a, b]
            for l in range(2):
                s = h[(h.model == m) & (h["class"] == c) & (h.view == l)]
                ax.plot(s.step, s.phi, color=VIEW_COLORS[l], label=f"view {l}")
            ax.axhline(LEARNED_PHI, color="gray", ls=":", lw=1)
            ax.set_yscale("log")
            if a == 0:
                ax.set_title(f"class {c}")
            if b == 0:
                ax.set_ylabel(f"model {m}\nPhi")
            if a == len(models) - 1:
                ax.set_xlabel("GD step")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("The view lottery: Phi_{j,l}(t) = max_r <w_{j,r}, v_{j,l}> (dotted: learned threshold)")
    fig.tight_layout()
    return save(fig, path)


LOG_RATIO_BINS = (-np.inf, -3, -2, -1.5, -1, -0.6, -0.3, -0.1, 0, 0.1, 0.3, 0.6, 1, 1.5, 2, 3, np.inf)
LOG_RATIO_CLIP = 6.0  # a view whose best filter starts below 0 has ratio +-inf: drawn at +-6


def _bin_means(x: pd.Series, y: pd.Series, edges) -> pd.DataFrame:
    """Per bin of x: mean x, mean y, count n and the binomial standard error se of y (0/1 values)."""
    g = pd.DataFrame({"x": x, "y": y}).groupby(pd.cut(x, edges, include_lowest=True), observed=True)
    out = g.mean().assign(n=g.size())
    return out.assign(se=np.sqrt(out.y * (1 - out.y) / out.n))


def lottery_prediction(views: pd.DataFrame, path: Path | None):
    """The lottery predicted from the init (views.csv's predicted, log_ratio), pooled over repeats.

    Left: the chance that view 0 wins a one-view pair against log(score_0 / score_1), with the
    prediction (a step at 0) and, on a second axis, the share of pairs per bin that learned both views
    or none. Right: the prediction's accuracy on one-view pairs against |log ratio|, with their count.
    Error bars: binomial standard errors over the pairs of a bin."""
    from .lottery import view_pairs

    p = view_pairs(views)
    p["log_ratio"] = p.log_ratio.clip(-LOG_RATIO_CLIP, LOG_RATIO_CLIP)
    one = p[p.n_learned == 1]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11.5, 4))
    won0 = _bin_means(one.log_ratio, (one.winner == 0).astype(float), LOG_RATIO_BINS)
    ax.errorbar(won0.x, won0.y, yerr=won0.se, marker="o", capsize=2, color=VIEW_COLORS[0],
                label="view 0 won (one-view pairs)")
    lim = max(1.0, float(won0.x.abs().max()) * 1.1)
    ax.step([-lim, 0, lim], [0, 1, 1], where="post", color="k", ls=":", label="prediction: the larger score wins")
    ax.set_xlim(-lim, lim)
    ax.set_xlabel("log(score_0 / score_1) at init, score = S_{i,l} Lambda_{i,l}^(q-2) (binned)")
    ax.set_ylabel("fraction of one-view pairs won by view 0")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)
    tied = _bin_means(p.log_ratio, (p.n_learned != 1).astype(float), LOG_RATIO_BINS)
    ax2 = ax.twinx()
    ax2.bar(tied.x, tied.y, width=0.12, color="#2ca02c", alpha=0.4, label="both views or none (all pairs)")
    ax2.set_ylabel("share of pairs with both views or none", color="#2ca02c")
    ax2.set_ylim(0, 1)
    handles = ax.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
    ax.legend(handles, [h.get_label() for h in handles], fontsize=7, loc="center right")
    ax.set_title("who wins, against the init's score ratio", fontsize=10)

    acc = _bin_means(one.log_ratio.abs(), one.hit, [e for e in LOG_RATIO_BINS if e >= 0])
    bx.errorbar(acc.x, acc.y, yerr=acc.se, marker="o", capsize=2, color="k", label="predicted view learned")
    for xi, yi, ni in zip(acc.x, acc.y, acc.n):
        bx.annotate(str(ni), (xi, yi), textcoords="offset points", xytext=(0, 6), fontsize=6, ha="center")
    bx.axhline(0.5, color="gray", ls=":", lw=1, label="chance")
    bx.set_xscale("symlog", linthresh=0.1)
    bx.set_xlim(0, LOG_RATIO_CLIP * 1.2)
    bx.set_xlabel("|log score ratio| at init (binned; numbers: one-view pairs per bin)")
    bx.set_ylabel("prediction accuracy on one-view pairs")
    bx.set_ylim(0.3, 1.05)
    bx.grid(alpha=0.3)
    bx.legend(fontsize=7, loc="lower right")
    bx.set_title(f"accuracy {one.hit.mean():.3f} over {len(one)} one-view pairs", fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def lottery_swap(swap: pd.DataFrame, path: Path | None):
    """Training from the init with each class's view coordinates swapped (swap.csv). Left: the winner
    from the original init (rows) against the winner from the swapped one (columns), pairs pooled
    over repeats; -1 = both views or none. Right: per repeat, the fraction of pairs (one view in both
    runs) whose winner changed, and how often each init's prediction named the winner."""
    labels = {-1: "both/none", 0: "view 0", 1: "view 1"}
    grid = pd.crosstab(swap.winner_before, swap.winner_after).reindex(index=list(labels), columns=list(labels),
                                                                         fill_value=0)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(10, 3.8), gridspec_kw={"width_ratios": [1, 1.3]})
    ax.imshow(grid.to_numpy(), cmap="Blues")
    for (a, b), n in np.ndenumerate(grid.to_numpy()):
        ax.text(b, a, str(n), ha="center", va="center", fontsize=9,
                color="white" if n > grid.to_numpy().max() / 2 else "black")
    ax.set_xticks(range(3), labels.values())
    ax.set_yticks(range(3), labels.values())
    ax.set_xlabel("winner from the swapped init")
    ax.set_ylabel("winner from the init")
    ax.set_title("(model, class) pairs, all repeats", fontsize=10)
    per = swap.groupby("repeat")
    one_before, one_after = swap.winner_before >= 0, swap.winner_after >= 0
    series = {"winner changed": per.changed.mean(),
              "prediction right (init)": (swap.predicted_before == swap.winner_before)[one_before]
              .groupby(swap.repeat[one_before]).mean(),
              "prediction right (swapped)": (swap.predicted_after == swap.winner_after)[one_after]
              .groupby(swap.repeat[one_after]).mean()}
    pos = np.arange(len(series))
    for i, (name, s) in enumerate(series.items()):
        bx.bar(i, s.mean(), yerr=s.std() if len(s) > 1 else 0, capsize=3, color="#1f77b4" if i == 0 else "#7f7f7f")
        bx.scatter(np.full(len(s), i), s, color="k", s=10, zorder=3)
    bx.set_xticks(pos, list(series), fontsize=8)
    bx.set_ylim(0, 1.02)
    bx.set_ylabel("fraction of pairs (mean +- std over repeats; dots: repeats)")
    bx.set_title("swapping the init's view coordinates", fontsize=10)
    bx.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return save(fig, path)


METHOD_COLORS = {"single": "#7f7f7f", "ensemble": "#1f77b4", "kd": "#2ca02c", "kd_ensemble": "#98df8a",
                 "self_distill": "#ff7f0e", "label_control": "#c7c7c7", "train_average": "#9467bd"}
FAMILY_NAMES = {"nn": "network", "ntk": "linearised (NTK)", "rf": "random features"}


def headline(results: pd.DataFrame, path: Path) -> list[Path]:
    """The paper's Figure 3 in spirit: grouped bars per family, error bars = std over repeats.

    Top row: multi-view data, single-view test accuracy and all-test accuracy.
    Bottom row: the Gaussian control's test accuracy."""
    from .report import summary

    s = summary(results)
    panels = [("multiview", "test_single", "multi-view data: single-view test samples"),
              ("multiview", "test", "multi-view data: all test samples"),
              ("gaussian", "test", "Gaussian control: test accuracy"),
              ("digits", "test", "handwritten digits: test accuracy")]
    panels = [p for p in panels if ((s.data == p[0]) & (s.split == p[1])).any()]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.2 * len(panels), 3.8), squeeze=False)
    methods = [m for m in METHOD_COLORS if m in set(s.method)]
    for ax, (data, split, title) in zip(axes[0], panels):
        sub = s[(s.data == data) & (s.split == split)]
        fams = [f for f in ("nn", "ntk", "rf") if f in set(sub.family)]
        width = 0.8 / len(methods)
        for i, m in enumerate(methods):
            vals = [sub[(sub.family == f) & (sub.method == m)] for f in fams]
            means = [v["mean"].iloc[0] if len(v) else np.nan for v in vals]
            errs = [v["std"].iloc[0] if len(v) else 0 for v in vals]
            x = np.arange(len(fams)) + (i - (len(methods) - 1) / 2) * width
            ax.bar(x, means, width, yerr=errs, capsize=2, color=METHOD_COLORS[m], label=m.replace("_", " "))
        ax.set_xticks(range(len(fams)), [FAMILY_NAMES[f] for f in fams])
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("accuracy (mean +- std over repeats)")
        ax.set_title(title, fontsize=10)
        if data == "multiview" and split == "test_single":
            ax.axhline(0.5, color="k", ls=":", lw=1, label="theory: single ~ 0.5")
        ax.grid(axis="y", alpha=0.3)
    handles, names = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=8, bbox_to_anchor=(0.5, -0.02))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return save(fig, path)


def kd_variants(table: pd.DataFrame, path: Path) -> list[Path]:
    """Single-view test accuracy of KD students per variant, with the teachers' single and ensemble."""
    fig, ax = plt.subplots(figsize=(7.5, 0.42 * len(table) + 1.2))
    y = np.arange(len(table))[::-1]
    ax.barh(y, table.kd, color=METHOD_COLORS["kd"], label="KD student")
    ax.scatter(table.single, y, color="k", marker="|", s=200, label="single (teachers)", zorder=3)
    ax.scatter(table.ensemble, y, color=METHOD_COLORS["ensemble"], marker="|", s=200, label="ensemble", zorder=3)
    ax.set_yticks(y, table.index, fontsize=8)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel("accuracy on single-view test samples")
    ax.set_title("KD from the ensemble: one change at a time", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return save(fig, path)


def metric_vs_knob(table: pd.DataFrame, knob: str, path: Path, split: str = "test_single",
                   xlabel=None, log2: bool = False, failing: dict | None = None) -> list[Path]:
    """Per family: each method's accuracy (mean +- std over repeats) against a swept knob.

    table: columns knob, family, method, split, mean, std (sweep.summarise's output, or alike).
    xlabel: a string, or a dict family -> string.
    failing: knob value -> names of the claims that fail there (sweep.failing_by_value): a red mark."""
    t = table[table.split == split].copy()
    numeric = pd.to_numeric(t[knob], errors="coerce")
    if numeric.notna().all():  # grid values arrive as text
        t[knob] = numeric
    fams = [f for f in FAMILY_NAMES if f in set(t.family)]
    fig, axes = plt.subplots(1, len(fams), figsize=(5 * len(fams), 3.6), squeeze=False)
    for ax, fam in zip(axes[0], fams):
        for m, color in METHOD_COLORS.items():
            s = t[(t.family == fam) & (t.method == m)].sort_values(knob)
            if len(s):
                ax.errorbar(s[knob], s["mean"], yerr=s["std"].fillna(0), marker="o", color=color, capsize=2,
                            label=m.replace("_", " "))
        xs = sorted(t[t.family == fam][knob].unique())
        _mark_failing(ax, failing or {})
        if log2:
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [f"{x:g}" for x in xs])
        ax.set_xlabel(xlabel.get(fam, knob) if isinstance(xlabel, dict) else xlabel or knob)
        ax.set_ylabel(f"accuracy on {split.replace('_', ' ')} (mean +- std)")
        ax.set_title(FAMILY_NAMES[fam], fontsize=10)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def _mark_failing(ax, failing: dict) -> None:
    """A red x at the foot of each knob value where a claim fails, with the claims' names above it."""
    for i, (value, names) in enumerate(sorted(failing.items())):
        ax.plot([value], [0.02], marker="X", color="red", markersize=9, linestyle="none",
                label="a claim fails" if i == 0 else None)
        ax.annotate("\n".join(names), (value, 0.06), fontsize=6, color="red", ha="center", va="bottom")


def accuracy_vs_width(table: pd.DataFrame, path: Path, split: str = "test") -> list[Path]:
    """Per baseline family: each method's accuracy against the baseline's width."""
    return metric_vs_knob(table[table.family.isin(["ntk", "rf"])], "width", path, split, log2=True,
                          xlabel={"ntk": "filters per class (ntk)", "rf": "random filters (rf)"})


def ensemble_size(table: pd.DataFrame, path: Path | None):
    """Single-view test accuracy of an n-member ensemble per family (mean +- std over repeats), with the
    measured view coverage of the networks and the lottery's prediction 1 - 2^-n."""
    fig, ax = plt.subplots(figsize=(6, 4))
    colors = {"nn": "#1f77b4", "ntk": "#2ca02c", "rf": "#ff7f0e"}
    for fam in [f for f in FAMILY_NAMES if f in set(table.family)]:
        t = table[table.family == fam]
        ax.errorbar(t.n_members, t.accuracy, yerr=t["std"].fillna(0), marker="o", ms=3, capsize=2,
                    color=colors[fam], label=f"{FAMILY_NAMES[fam]}: accuracy")
        if t.coverage.notna().any() and fam == "nn":
            ax.plot(t.n_members, t.coverage, ls="--", color=colors[fam], label="network: views covered (measured)")
    n = np.arange(1, table.n_members.max() + 1)
    ax.plot(n, 1 - 0.5 ** n, ls=":", color="k", label="lottery prediction 1 - 2^-n")
    ax.set_xlabel("ensemble size n")
    ax.set_ylabel("single-view test accuracy / coverage")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save(fig, path)


def kd_sweep_table(df: pd.DataFrame, split: str = "test_single") -> pd.DataFrame:
    """(knob, value, method) -> mean, std over repeats of the per-repeat accuracy, and both-view rate."""
    t = over_repeats(df[df.split == split], ["knob", "value", "method"], ["accuracy", "both_views"])
    return t.rename(columns={"accuracy_mean": "mean", "accuracy_std": "std", "both_views_mean": "both_views"})[
        ["knob", "value", "method", "mean", "std", "both_views"]]


def kd_sweeps(table: pd.DataFrame, path: Path | None, split: str = "test_single"):
    """One panel per swept knob: single, ensemble and KD accuracy (mean +- std over repeats)."""
    knobs = list(dict.fromkeys(table.knob))
    fig, axes = plt.subplots(1, len(knobs), figsize=(4.2 * len(knobs), 3.6), squeeze=False, sharey=True)
    for ax, knob in zip(axes[0], knobs):
        for m in ("single", "ensemble", "kd"):
            t = table[(table.knob == knob) & (table.method == m)].sort_values("value")
            ax.errorbar(t.value, t["mean"], yerr=t["std"].fillna(0), marker="o", capsize=2,
                        color=METHOD_COLORS[m], label=m)
        ax.set_xlabel(knob)
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(f"accuracy on {split.replace('_', ' ')}")
    axes[0, 0].legend(fontsize=8)
    fig.tight_layout()
    return save(fig, path)


def generations(table: pd.DataFrame, path: Path | None):
    """Born-again chains per generation: single-view accuracy, both-view rate and the chain's view
    coverage (mean +- std over repeats) against the lottery's 1 - 2^-(g+1)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    chains = list(dict.fromkeys(table.method)) if "method" in table else [None]
    for chain, (ls, marker) in zip(chains, (("-", "o"), ("--", "s"), ("-.", "^"))):
        t = table if chain is None else table[table.method == chain]
        for col, color, label in (("test_single", "#ff7f0e", "single-view test accuracy"),
                                  ("both_views", "#2ca02c", "pairs with both views"),
                                  ("chain_coverage", "#1f77b4", "views learned by the chain so far")):
            ax.errorbar(t.generation, t[f"{col}_mean"], yerr=t[f"{col}_std"].fillna(0), marker=marker, capsize=2,
                        color=color, ls=ls, label=label if chain is None else f"{label} ({chain.replace('_', ' ')})")
    g = sorted(table.generation.unique())
    ax.plot(g, [1 - 0.5 ** (x + 1) for x in g], ls=":", color="k", label="lottery prediction 1 - 2^-(g+1)")
    ax.set_xticks(g)
    ax.set_xlabel("generation g (0 = the trained teacher)")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return save(fig, path)


def variants(table: pd.DataFrame, path: Path | None, x: str | None = None, xlabel: str | None = None,
             references=("single", "ensemble"), title: str = ""):
    """Single-view test accuracy and both-view rate (mean +- std over repeats) per method: bars, or
    lines against `x`. Methods in `references` are drawn as horizontal lines (the teachers' levels).
    table: report.by_method's output."""
    panels = [("acc", "single-view test accuracy")] + ([("both", "classes with both views")]
                                                       if "both_mean" in table else [])
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 3.8), squeeze=False)
    refs = table[table.method.isin(references)]
    rest = table[~table.method.isin(references)]
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (col, label) in zip(axes[0], panels):
        for _, r in refs.drop_duplicates("method").iterrows():
            if not np.isnan(r[f"{col}_mean"]):
                ax.axhline(r[f"{col}_mean"], ls="--", lw=1, color="0.3" if "ensemble" in r.method else "0.6",
                           label=f"{r.method.replace('_', ' ')} (teachers)")
        methods = list(dict.fromkeys(rest.method))
        if x is None:
            pos = np.arange(len(methods))
            ax.bar(pos, rest[f"{col}_mean"], yerr=rest[f"{col}_std"].fillna(0), capsize=3,
                   color=[colors[i % len(colors)] for i in range(len(methods))])
            ax.set_xticks(pos, [m.replace("_", " ") for m in methods], rotation=25, ha="right", fontsize=8)
        else:
            for i, m in enumerate(methods):
                s = rest[rest.method == m].sort_values(x)
                ax.errorbar(s[x], s[f"{col}_mean"], yerr=s[f"{col}_std"].fillna(0), marker="o", capsize=2,
                            color=colors[i % len(colors)], label=m.replace("_", " "))
            xs = sorted(rest[x].dropna().unique())
            ax.set_xscale("log", base=2)
            ax.set_xticks(xs, [f"{v:g}" for v in xs])
            ax.set_xlabel(xlabel or x)
        ax.set_ylabel(f"{label} (mean +- std)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3, axis="y")
    axes[0, 0].legend(fontsize=7, loc="lower right")
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save(fig, path)


def calibration(table: pd.DataFrame, reliability: pd.DataFrame, path: Path | None):
    """ECE before/after temperature scaling per method; reliability curves (pooled over models and
    repeats, before scaling); single-view confidence vs accuracy on learned vs missing views."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    methods = list(table.method)
    pos = np.arange(len(methods))
    ax = axes[0]
    for off, col, label in ((-0.2, "ece", "before"), (0.2, "ece_scaled", "after temperature scaling")):
        ax.bar(pos + off, table[f"{col}_mean"], 0.4, yerr=table[f"{col}_std"].fillna(0), capsize=2, label=label)
    ax.set_xticks(pos, [m.replace("_", " ") for m in methods], rotation=25, ha="right", fontsize=8)
    ax.set_ylabel("expected calibration error (test, mean +- std)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    ax = axes[1]
    raw = reliability[~reliability.scaled]
    for m in methods:
        g = raw[raw.method == m].groupby("bin")
        curve = pd.DataFrame({"n": g["count"].sum(),
                              "conf": (g.apply(lambda d: (d.confidence * d["count"]).sum(), include_groups=False)
                                       / g["count"].sum()),
                              "acc": (g.apply(lambda d: (d.accuracy * d["count"]).sum(), include_groups=False)
                                      / g["count"].sum())})
        curve = curve[curve.n >= 20]
        ax.plot(curve.conf, curve.acc, marker="o", ms=3, label=m.replace("_", " "))
    ax.plot([0, 1], [0, 1], ls=":", color="k", lw=1)
    ax.set_xlabel("confidence (bins with >= 20 samples)")
    ax.set_ylabel("accuracy")
    ax.set_title("reliability, before scaling", fontsize=10)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    ax = axes[2]
    nets = table[table.conf_missing_mean.notna()] if "conf_missing_mean" in table else table.iloc[:0]
    p = np.arange(len(nets))
    for off, tag, color in ((-0.3, "learned", "#2ca02c"), (0.1, "missing", "#d62728")):
        ax.bar(p + off, nets[f"conf_{tag}_mean"], 0.2, color=color, alpha=0.45, label=f"confidence, {tag} view")
        ax.bar(p + off + 0.2, nets[f"acc_{tag}_mean"], 0.2, color=color, label=f"accuracy, {tag} view")
    ax.set_xticks(p, [m.replace("_", " ") for m in nets.method], rotation=25, ha="right", fontsize=8)
    ax.set_title("single-view test samples: the network learned their view, or not", fontsize=10)
    ax.set_ylim(0, 1.3)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.legend(fontsize=7, ncol=2, loc="upper center")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    return save(fig, path)


GROUP_COLORS = {"own_multi": "#1f77b4", "own_same": "#2ca02c", "own_other": "#9467bd", "dark": "#d62728",
                "rest": "#7f7f7f"}


def growth_by_group(growth_df: pd.DataFrame, methods: list[str], path: Path | None, view: str = "second"):
    """The `view` (first / second) of each (model, class): its cumulative growth from each sample
    group over steps, one panel per method (mean over pairs and repeats). growth_df: mechanism.growth_table."""
    g = growth_df[(growth_df.view == view) & growth_df.method.isin(methods)]
    fig, axes = plt.subplots(1, len(methods), figsize=(3.6 * len(methods), 3.2), squeeze=False, sharey=True)
    for ax, m in zip(axes[0], methods):
        s = g[g.method == m].groupby(["group", "step"]).growth.mean()
        for grp, color in GROUP_COLORS.items():
            if grp in s.index.get_level_values(0):
                c = s.loc[grp].cumsum()
                ax.plot(c.index, c.values, color=color, label=grp.replace("_", " "))
        ax.axhline(0, color="0.5", lw=0.5)
        ax.set_title(m.replace("_", " "), fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(f"growth of the {view} view's Phi\n(cumulative, mean over pairs)")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    return save(fig, path)


def channel_shares(table: pd.DataFrame, path: Path | None, groups=tuple(GROUP_COLORS)):
    """Per method: single-view accuracy (bars, mean +- std) and how much each sample group grew the
    second view's Phi (stacked, signed, symmetric-log axis: some variants balance large opposite
    flows). table: mechanism.channel_table."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 3.8))
    pos = np.arange(len(table))
    names = [m.replace("_", " ") for m in table.method]
    a1.bar(pos, table.acc_mean, yerr=table.acc_std.fillna(0), capsize=3, color="0.6")
    a1.set_xticks(pos, names, rotation=35, ha="right", fontsize=7)
    a1.set_ylabel("single-view test accuracy")
    a1.set_ylim(0, 1.02)
    a1.grid(alpha=0.3, axis="y")
    width = 0.8 / len(groups)
    for i, grp in enumerate(groups):
        v = (table[f"share_{grp}"] * table.total_growth).fillna(0).to_numpy()
        a2.bar(pos - 0.4 + (i + 0.5) * width, v, width, color=GROUP_COLORS[grp], label=grp.replace("_", " "))
    a2.plot(pos, table.total_growth, "k_", ms=12, mew=2, label="total")
    a2.set_yscale("symlog", linthresh=1)
    a2.set_xticks(pos, names, rotation=35, ha="right", fontsize=7)
    a2.set_ylabel("growth of the second view's Phi\n(mean over pairs and repeats)")
    a2.axhline(0, color="0.3", lw=0.5)
    a2.grid(alpha=0.3, axis="y")
    a2.legend(fontsize=7, ncol=6, loc="upper center", bbox_to_anchor=(0.5, 1.15))
    fig.tight_layout()
    return save(fig, path)

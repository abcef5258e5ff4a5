"""paper_notes.md's measured tables, one function per table, each from its figure's CSVs."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .claim import mean, per_repeat
from .claims import CLAIMS, check, load
from .quote import by_generation, config, fmt, md, pm, results

METHODS = ["single", "ensemble", "kd", "kd_ensemble", "self_distill", "label_control", "train_average"]


def lottery(figures: Path) -> str:
    """Sec. 3: per repeat, accuracies of the singles and how many views each (model, class) learned."""
    res, views = results(figures, "views_per_seed"), results(figures, "views_per_seed", "views")
    n = views.groupby(["repeat", "model", "class"]).learned.sum()
    wins = views[views.learned == 1].merge(n[n == 1].rename("n").reset_index(), on=["repeat", "model", "class"])
    per = pd.DataFrame({s: per_repeat(res, method="single", split=s) for s in ("train", "test_multi", "test_single")})
    per["one"], per["both"], per["none"] = ((n == v).groupby("repeat").mean() for v in (1, 2, 0))
    per["share"] = (wins.view == 0).groupby(wins.repeat).mean()
    rows = [[r, *(f"{x:.3f}" for x in p[["train", "test_multi", "test_single"]]), *(f"{x:.2f}" for x in p[3:])]
            for r, p in per.iterrows()]
    rows.append(["mean", f"{per.train.mean():.3f}", f"{per.test_multi.mean():.3f}",
                 pm(res, method="single", split="test_single"), *(f"{per[c].mean():.3f}" for c in per.columns[3:])])
    return md(["repeat", "train", "test_multi", "test_single", "one view", "both views", "no view", "view 0 share"],
              rows)


def lottery_prediction(figures: Path) -> str:
    """Sec. 3: per repeat, how often the init's score names the winner of a one-view pair, how often
    the view swap moves it, and the hit rate per |log score ratio| bin (all repeats pooled)."""
    from .lottery import view_pairs

    pairs = view_pairs(results(figures, "views_per_seed", "views"))
    swap = results(figures, "views_per_seed", "swap")
    hit, changed = pairs.groupby("repeat").hit.mean(), swap.groupby("repeat").changed.mean()
    rows = [[r, f"{hit[r]:.3f}", f"{changed[r]:.3f}", int(swap[swap.repeat == r].changed.notna().sum())] for r in hit.index]
    rows.append(["mean +- std", f"{hit.mean():.3f} +- {hit.std(ddof=1):.3f}",
                 f"{changed.mean():.3f} +- {changed.std(ddof=1):.3f}", int(swap.changed.notna().sum())])
    table = md(["repeat", "init predicts the winner (one-view pairs)", "swap moves the winner", "swapped pairs"], rows)
    one = pairs[pairs.n_learned == 1]
    bins = pd.cut(one.log_ratio.abs(), [0, 0.1, 0.3, 0.6, 1.0, float("inf")], right=False)
    by = one.groupby(bins, observed=False).hit
    other = pairs[pairs.n_learned != 1].log_ratio.abs()
    return table + "\n" + md(["abs log score ratio", "one-view pairs", "init predicts the winner"],
                             [[str(b), int(n), fmt(a)] for b, n, a in zip(by.size().index, by.size(), by.mean())]) + \
        f"\nPairs with both views or none: {len(other)}, abs log ratio at most {other.max():.2f} (median {other.median():.2f}).\n"


def headline_families(figures: Path) -> str:
    """Sec. 4: every method for every family, with the theory's expectation."""
    df = results(figures, "ensemble_vs_ntk")
    linear = "ens > single, kd ~ single, avg >= ens"
    rows = [("nn, test_single", "nn", "multiview", "test_single", "~0.5, ~1, ~1, ~1, ~0.75, ~0.5, ~0.5"),
            ("ntk, test", "ntk", "multiview", "test", linear), ("rf, test", "rf", "multiview", "test", linear),
            ("nn, Gaussian control, test", "nn", "gaussian", "test", "no ensemble gain")]
    return md(["family", *METHODS, "theory"],
              [[name, *(pm(df, family=f, data=d, method=m, split=s) for m in METHODS), theory]
               for name, f, d, s, theory in rows])


VARIANT_KEYS = {"no dark knowledge in multi-view samples": "`data.dark_weight=0`",
                "no off-class features at all": "`data.dark_prob=0`",
                "view weights fixed at 0.75": "`view_weight_min = max = 0.75`"}


def kd_regime(figures: Path) -> str:
    """Sec. 5: the distillation phase's defaults changed one at a time (one repeat)."""
    df = results(figures, "kd_regime")
    rows = []
    for variant in dict.fromkeys(df.variant):
        v = df[(df.variant == variant) & (df.split == "test_single")]
        acc = {m: mean(v, method=m) for m in ("single", "ensemble", "kd")}
        both = {m: mean(v, "both_views", method=m) for m in ("single", "kd")}
        gain = acc["ensemble"] - acc["single"]
        kd = df[(df.variant == variant) & (df.method == "kd")]
        name = f"{variant} ({VARIANT_KEYS[variant]})" if variant in VARIANT_KEYS else variant
        rows.append([name, f"{acc['single']:.3f}", f"{acc['kd']:.3f}",
                     f"{(acc['kd'] - acc['single']) / gain:.0%}" if gain > 0 else "-",
                     f"{both['single']:.2f}", f"{both['kd']:.2f}", fmt(kd.teacher_dark_logit.mean(), ".2f"),
                     fmt(kd.student_dark_logit.mean(), ".2f")])
    return md(["variant", "single", "KD", "KD keeps", "both: singles", "both: KD", "teacher dark logit",
               "student dark logit"], rows)


def baseline_width(figures: Path) -> str:
    """Sec. 6: rf and ntk against their width (all-test accuracy)."""
    df = results(figures, "baseline_width")
    cols = ["single", "ensemble", "kd", "self_distill", "train_average"]
    rows = [[f, w, *(pm(df, family=f, width=w, method=m, split="test") for m in cols)]
            for f in ("ntk", "rf") for w in sorted(df[df.family == f].width.unique())]
    return md(["family", "width", *cols], rows)


def ensemble_size(figures: Path) -> str:
    """Sec. 8: accuracy and coverage of n-network ensembles against the lottery's 1 - 2^-n."""
    df = results(figures, "ensemble_size")
    ns = [n for n in (1, 2, 3, 4, 5, 6, 8, 10, 16) if n in set(df.n_members)]

    def row(family, col):
        d = df[df.family == family]
        return [f"{d[d.n_members == n].groupby('repeat')[col].mean().mean():.3f}" for n in ns]
    return md(["n", *map(str, ns)], [["nn accuracy", *row("nn", "accuracy")], ["nn views covered",
                                     *row("nn", "coverage")], ["1 - 2^-n", *(f"{1 - 0.5 ** n:.3f}" for n in ns)],
                                     ["ntk accuracy", *row("ntk", "accuracy")], ["rf accuracy", *row("rf", "accuracy")]])


def generations(figures: Path) -> str:
    """Sec. 8: born-again generations: accuracy, both-view rate, the chain's coverage, the law."""
    df = results(figures, "self_distillation")
    gens = sorted(df.generation.unique())
    both, cov = by_generation(df, "both_views"), by_generation(df, "chain_coverage")
    return md(["generation g", *(("0 (teacher)" if g == 0 else str(g)) for g in gens)], [
        ["single-view accuracy", *(pm(df, "test_single", generation=g) for g in gens)],
        ["pairs with both views", *(f"{both[g]:.2f}" for g in gens)],
        ["views the chain has learned", *(f"{cov[g]:.3f}" for g in gens)],
        ["1 - 2^-(g+1)", *(f"{1 - 0.5 ** (g + 1):.3f}" for g in gens)]])


def view_dropout(figures: Path) -> str:
    """Sec. 8: single networks trained with view dropout p, their ensembles and KD students."""
    df = results(figures, "view_dropout")
    df = df[df.split == "test_single"]
    ps = sorted(df.value.unique())
    return md(["p", *(f"{p:g}" for p in ps)], [
        ["single, single-view accuracy", *(f"{mean(df, method='single', value=p):.3f}" for p in ps)],
        ["single, pairs with both views", *(f"{mean(df, 'both_views', method='single', value=p):.2f}" for p in ps)],
        ["ensemble", *(f"{mean(df, method='ensemble', value=p):.3f}" for p in ps)],
        ["KD", *(f"{mean(df, method='kd', value=p):.3f}" for p in ps)]])


KNOBS = {"data.dark_weight": "off-class weight in multi-view samples (`data.dark_weight`)",
         "distill.T": "temperature T", "distill.alpha": "soft-label weight alpha",
         "train.label_smoothing": "teachers' label smoothing epsilon"}


def dark_knowledge(figures: Path) -> str:
    """Sec. 8: KD against one knob at a time."""
    df = results(figures, "dark_knowledge")
    df = df[(df.split == "test_single") & (df.method == "kd")]
    rows = []
    for knob, name in KNOBS.items():
        vals = sorted(df[df.knob == knob].value.unique())
        rows.append([name, " / ".join(f"{v:g}" for v in vals),
                     " / ".join(pm(df, knob=knob, value=v) for v in vals),
                     " / ".join(f"{mean(df, 'both_views', knob=knob, value=v):.2f}" for v in vals)])
    return md(["knob", "values", "KD", "both"], rows)


def real_digits(figures: Path) -> str:
    """Sec. 8: every method on scikit-learn's digits (test accuracy)."""
    df = results(figures, "real_digits")
    return md(["family", *METHODS], [[f, *(pm(df, family=f, method=m, split="test") for m in METHODS)]
                                     for f in ("nn", "ntk", "rf")])


def _with_both(df: pd.DataFrame, first: bool = False, **where) -> str:
    """'mean +- std (both-view rate)' of single-view test accuracy; the first cell of a table says 'both'."""
    both = mean(df, "both_views", split="test_single", **where)
    return f"{pm(df, split='test_single', **where)} ({'both ' if first else ''}{both:.2f})"


def teacher_ensembles(figures: Path) -> str:
    """Sec. 10.1: students of 1, 2, 10 teachers, four ways of combining them."""
    df = results(figures, "teacher_ensembles")

    def cell(way, n):
        if df[(df.method == way) & (df.n_teachers == n)].empty:
            return "= logits"  # one teacher: averaging probabilities or drawing a teacher is the logits' KD
        return _with_both(df, first=(way, n) == ("logits", 1), method=way, n_teachers=n)
    return md(["teachers", "logits", "probs (T = 4)", "random per step", "relabel (T = 1)"],
              [[n, *(cell(w, n) for w in ("logits", "probs", "random", "relabel"))]
               for n in sorted(df[df.method == "logits"].n_teachers.unique())])


def online_kd(figures: Path) -> str:
    """Sec. 10.2: mutual peers vs offline KD at equal compute, and the peers' view agreement."""
    df = results(figures, "online_kd")
    peers, n = df[df.model >= 0], config(figures, "online_kd")["config"]["distill"]["n_students"]

    def agree(m):
        a = peers[peers.method == m].groupby("repeat").agreement.first()
        return f"{a.mean():.2f} +- {a.std(ddof=1):.2f}" if len(a) > 1 else f"{a.mean():.2f}"
    rows = [[name, pm(df, method=m, split="test_single"), f"{mean(df, 'both_views', method=m, split='test_single'):.2f}",
             agree(m)] for name, m in ((f"single ({n} offline teachers)", "single"),
                                       (f"offline KD from those {n}", "offline_kd"),
                                       ("mutual (forward KL), after phase 1", "mutual_phase1"),
                                       ("mutual (forward KL), end", "mutual"),
                                       ("balanced (half reverse KL), end", "balanced"))]
    ens = " / ".join(f"{mean(df, method=m, split='test_single'):.3f}" for m in ("single_ensemble", "mutual_ensemble"))
    rows.append([f"ensemble of the {n} offline teachers / of the {n} mutual peers", ens, "", ""])
    return md(["method", "single-view acc", "both views", "view agreement"], rows)


def hints(figures: Path) -> str:
    """Sec. 10.3: hints vs KD from the ensemble."""
    df = results(figures, "hints")
    return md(["single", "ensemble", "KD", "hints alone", "hints then KD"], [[
        _with_both(df, first=True, method="single"), f"{mean(df, method='ensemble', split='test_single'):.3f}",
        *(_with_both(df, method=m) for m in ("kd", "hints", "hints_then_kd"))]])


def capacity_gap(figures: Path) -> str:
    """Sec. 10.4: narrow students, direct and through an assistant."""
    df, a = results(figures, "capacity_gap"), config(figures, "capacity_gap")["assistant"]
    via = set(df[df.method == "kd_via_assistant"].width)
    rows = [[m, _with_both(df, first=m == 1, method="labels_only", width=m), _with_both(df, method="kd_direct", width=m),
             _with_both(df, method="kd_via_assistant", width=m) if m in via else "(the assistants)" if m == a else ""]
            for m in sorted(df[df.method == "kd_direct"].width.unique())]
    return md(["student m", "labels only", "KD direct from the ensemble", f"KD via an m = {a} assistant"], rows)


PREDICTORS = {"single": "single", "ensemble": "ensemble", "kd": "KD", "self_distill": "self-distilled",
              "label_smoothing": "label smoothing", "class_adaptive_smoothing": "class-adaptive smoothing"}


def calibration(figures: Path) -> str:
    """Sec. 10.5: ECE before and after temperature scaling; confidence on learned vs missing views."""
    df, eps = results(figures, "calibration"), config(figures, "calibration")["smoothing"]
    names = PREDICTORS | {"label_smoothing": f"label smoothing {eps:g}"}

    def m(col, method):
        return mean(df, col, method=method)

    def pair(method, which):
        c, a = (df[df.method == method][f"{k}_{which}"] for k in ("conf", "acc"))
        return "" if c.isna().all() else f"{m(f'conf_{which}', method):.3f} / {m(f'acc_{which}', method):.3f}"
    rows = [[name, *(f"{m(c, meth):.3f}" for c in ("accuracy", "ece", "ece_scaled", "ece_single",
                                                   "ece_single_scaled")), f"{m('temperature', meth):.2f}",
             pair(meth, "learned"), pair(meth, "missing")] for meth, name in names.items()]
    return md(["predictor", "accuracy (all test)", "ECE", "ECE after T-scaling", "ECE single-view", "after",
               "fitted T", "single-view, own view learned: conf / acc", "view missing: conf / acc"], rows)


def label_refinery(figures: Path) -> str:
    """Sec. 10.6: label refinery (T = 1) and born-again (T = 4) chains from the same generation 0."""
    df = results(figures, "label_refinery")
    rows = []
    for g in sorted(df.generation.unique()):
        row = [g]
        for method in ("label_refinery", "born_again"):
            if method == "born_again" and g == 0:
                row += ["(same networks)", "", ""]
                continue
            row += [pm(df, "test_single", method=method, generation=g),
                    f"{by_generation(df, 'both_views', method=method)[g]:.2f}",
                    f"{by_generation(df, 'chain_coverage', method=method)[g]:.2f}"]
        rows.append(row + [f"{1 - 0.5 ** (g + 1):.3f}"])
    return md(["generation", "label refinery (T = 1)", "both", "chain coverage", "born-again (T = 4)", "both",
               "chain coverage", "1 - 2^-(g+1)"], rows)


FOLDERS = ("views_per_seed", "ensemble_vs_ntk", "train_average_mean", "train_average_separate", "ensemble_size",
           "self_distillation", "label_refinery", "view_dropout", "dark_knowledge", "kd_regime", "baseline_width",
           "real_digits", "teacher_ensembles", "online_kd", "hints", "capacity_gap", "calibration",
           "calibration_margin10",
           "kd_channels", "kd_channels_regime", "kd_channels_regime_no_dark", "paper_update", "paper_update_no_dark",
           "headline_paper_update", "patch_layout")


def all_claims(figures: Path) -> str:
    """Sec. 11: every claim of every figure folder: measured, needed, verdict (not-run claims left out)."""
    rows = []
    for folder in FOLDERS:
        sim, tables, _ = load(Path(figures) / folder)
        v = check(CLAIMS[sim], tables)
        rows += [[f"`{folder}/`", c.claim, f"{c.measured:.3f}", c.needed, "holds" if c.holds else "FAILS"]
                 for c in v.itertuples() if c.holds is not None]
    return md(["figure", "claim", "measured", "needed", "verdict"], rows)


def channels(figures: Path, folder: str) -> str:
    """Sec. 12: per student variant, single-view accuracy, both-view rate, and how much each sample
    group grew the second view (Phi units: summed over steps, mean over (model, class) pairs), mean
    +- std over repeats. A negative entry is a group that pulled the view down."""
    from .growth import GROUPS

    res, g, acc = results(figures, folder), results(figures, folder, "growth"), results(figures, folder, "accounting")
    g = g[g.view == "second"].groupby(["method", "repeat", "group"]).growth.sum().unstack("group")
    g["total"] = g.sum(axis=1)
    rows = []
    for m in dict.fromkeys(res.method):
        cells = ["-"] * (len(GROUPS) + 1)
        if m in g.index.get_level_values(0):
            s = g.loc[m]
            cells = [f"{s[c].mean():+.2f} +- {(s[c].std(ddof=1) if len(s) > 1 else 0.0):.2f}"
                     for c in [*GROUPS, "total"]]
        both = pm(res, "both_views", method=m, split="test_single") if m != "ensemble" else "-"
        actual = acc[acc.method == m].actual.mean() if m in set(acc.method) else float("nan")
        rows.append([m, pm(res, method=m, split="test_single"), both, *cells, fmt(actual, "+.2f")])
    return md(["students", "single-view acc", "both views", *(f"growth: {c}" for c in GROUPS), "total",
               "Phi's actual change"], rows)


def patch_layout(figures: Path) -> str:
    """Sec. 12.4: KD and its label control in both patch layouts, with and without off-class weight,
    under the singles' per-class step and the default distillation step (single-view test accuracy
    and both-view rates, mean +- std over repeats; 'one filter' = both-view pairs whose two views
    share their best filter)."""
    df = results(figures, "patch_layout")
    rows = []
    for (opt, off, lay), v in df.groupby(["optimiser", "off_class", "layout"], sort=False):
        cell = lambda m, col="accuracy": pm(v, col, method=m, split="test_single")  # noqa: E731
        rows.append([opt, off, lay, cell("single"), cell("kd"), cell("label_control"), cell("kd", "both_views"),
                     cell("label_control", "both_views"), cell("kd", "same_filter")])
    return md(["distillation step", "off-class weight", "layout", "single", "KD", "label control", "both: KD",
               "both: control", "one filter: KD"], rows)


MECHANISM_FOLDERS = ("kd_channels", "kd_channels_regime", "kd_channels_regime_no_dark", "paper_update",
                     "paper_update_no_dark")


def _channels_block(folder: str):
    def block(figures: Path) -> str:
        return channels(figures, folder)
    block.__name__ = folder
    return block


BLOCKS = {**{f: _channels_block(f) for f in MECHANISM_FOLDERS}}
BLOCKS |= {fn.__name__: fn for fn in (all_claims, lottery, lottery_prediction, patch_layout, headline_families, kd_regime, baseline_width, ensemble_size,
                                     generations, view_dropout, dark_knowledge, real_digits, teacher_ensembles,
                                     online_kd, hints, capacity_gap, calibration, label_refinery)}

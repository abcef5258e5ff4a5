"""The theory's predictions as claims, per sim (`CLAIMS`): what each sim's tables must show
(the lottery, the headline and the explanation sims; the distillation literature's are in
`predictions_literature`).

Every threshold is a constant here, written once, with what it means. Predictions the sandbox has
shown to fail stay claims and report FAIL (paper_notes.md secs. 5, 8 and 10 say what happened).
"""
from __future__ import annotations

from typing import Callable

import pandas as pd

from .claim import NOT_RUN, Bound, Claim, NotTested, Tables, at_least, at_most, kept, mean, steps, z_score
from .lottery import view_pairs

# thresholds: each one is what a prediction of the theory (THEORY.md, paper_notes.md) means in numbers
FITS = 0.999            # training accuracy of a fitted network: 100%
MULTI_VIEW = 0.95       # a network is right on multi-view test data (theory: error ~0)
HALF = (0.35, 0.65)     # one network fails on about half the single-view test data
ONE_VIEW = 0.75         # most (model, class) pairs learn exactly one view
FAIR = 0.30             # the seed picks the winner: neither view wins fewer than 30% of the pairs
PREDICTS = 0.90         # the init's score S Lambda^(q-2) names the winner of 90% of the one-view pairs
SWAPS = 0.85            # swapping a class's view coordinates at init swaps the winner on 85% of the pairs
ENSEMBLE_GAIN = 0.25    # an ensemble of networks recovers at least half of the ~0.5 one network misses
KD_KEEPS = 0.70         # KD keeps most (>= 70%) of the ensemble's gain (paper: 83.8% of 84.8% from 81.5%)
SD_GAIN = 0.10          # self-distillation (KD from one teacher) gains clearly (theory: ~0.25)
NO_GAIN = 0.10          # training the average moves a network by less than this (theory: no gain)
NO_TRANSFER = 0.25      # KD that does not transfer keeps at most a quarter of the ensemble's gain
SLACK = 0.005           # "at least the ensemble" up to half a percent (10 of 2000 test samples)
LEARNABLE = 0.6         # the Gaussian control is learnable: far above chance (0.1)
CONTROL_GAIN = 0.03     # no views, no lottery: an ensemble adds at most 0.03 on Gaussian data
COVERAGE = 0.05         # "follows 1 - 2^-n": within about one binomial std of a fraction of 60 pairs
NOISE = 2.0             # "within noise": a paired difference over repeats within 2 standard errors


def law(n) -> float:
    """The lottery's coverage: a view won by none of n fair coin flips is missing with prob. 2^-n."""
    return 1 - 0.5 ** n


# the lottery (sims/views_per_seed.py) ----------------------------------------------------------------
def _single(t: Tables, split: str) -> float:
    return mean(t["results"], method="single", split=split)


def _views_per_pair(t: Tables) -> pd.Series:
    return t["views"].groupby(["repeat", "model", "class"]).learned.sum()


def _fair(t: Tables) -> float:
    won = t["views"][t["views"].learned == 1].groupby("view").size().reindex([0, 1], fill_value=0)
    if won.sum() == 0:
        raise NotTested("no view was learned")
    return float(won.min() / won.sum())


LOTTERY = (
    Claim("train accuracy", "every network fits its training set", lambda t: _single(t, "train"), at_least(FITS)),
    Claim("multi-view test accuracy", "a network is right when both views of the class show",
          lambda t: _single(t, "test_multi"), at_least(MULTI_VIEW)),
    Claim("single-view test accuracy", "a network fails on about half the single-view test data",
          lambda t: _single(t, "test_single"), (Bound(">=", HALF[0]), Bound("<=", HALF[1]))),
    Claim("one view per (model, class)", "each network wins one view of a class, not both",
          lambda t: float((_views_per_pair(t) == 1).mean()), at_least(ONE_VIEW)),
    Claim("fair lottery", "the seed picks the winner: the rarer view's share of the wins",
          _fair, at_least(FAIR)),
    Claim("the init predicts the winner", "the view with the larger S_{i,l} Lambda_{i,l}^(q-2) at init is the one "
          "learned (one-view pairs)", lambda t: mean(view_pairs(t["views"]), "hit"), at_least(PREDICTS)),
    Claim("swapping the init's views swaps the winner", "trained from the init with each class's two view "
          "coordinates swapped, the other view wins (pairs with one view in both runs)",
          lambda t: mean(t["swap"], "changed"), at_least(SWAPS)),
)


# the headline (sims/ensemble_vs_ntk.py; sweep points are headline repeats) -------------------------
def _acc(t: Tables, family: str, method: str, split: str, data: str = "multiview") -> float:
    return mean(t["results"], family=family, data=data, method=method, split=split)


def _nn(method: str) -> Callable[[Tables], float]:
    return lambda t: _acc(t, "nn", method, "test_single")


def _gain(t: Tables, family: str, split: str, data: str = "multiview") -> float:
    return _acc(t, family, "ensemble", split, data) - _acc(t, family, "single", split, data)


def _kept(t: Tables, family: str, split: str) -> float:
    return kept(*(_acc(t, family, m, split) for m in ("single", "ensemble", "kd")))


def _baseline(family: str) -> tuple[Claim, ...]:
    return (
        Claim(f"{family} ensemble gain", f"an ensemble of {family} models beats one (more features, not views)",
              lambda t: _gain(t, family, "test"), (Bound(">", 0.0),)),
        Claim(f"{family} kd does not transfer", f"KD into one {family} model keeps little of the ensemble's gain",
              lambda t: _kept(t, family, "test"), at_most(NO_TRANSFER)),
        Claim(f"{family} trained average >= ensemble", f"training the {family} average directly is as good as the "
              "ensemble", lambda t: _acc(t, family, "train_average", "test") - _acc(t, family, "ensemble", "test"),
              at_least(-SLACK)),
    )


HEADLINE = (
    Claim("nn ensemble gain", "an ensemble of networks covers the views its members lost (single-view test)",
          lambda t: _gain(t, "nn", "test_single"), at_least(ENSEMBLE_GAIN)),
    Claim("nn kd keeps the gain", "KD from the ensemble keeps most of its gain (fraction kept)",
          lambda t: _kept(t, "nn", "test_single"), at_least(KD_KEEPS)),
    Claim("nn self-distillation", "one teacher's soft labels add its view to the student's own (gain)",
          lambda t: _nn("self_distill")(t) - _nn("single")(t),
          (Bound(">=", SD_GAIN), Bound("<", lambda t: _gain(t, "nn", "test_single"), "the ensemble's gain"))),
    Claim("nn trained average no gain", "training the average of K networks runs one lottery: |gain|",
          lambda t: abs(_nn("train_average")(t) - _nn("single")(t)), at_most(NO_GAIN)),
    Claim("nn single multi-view", "one network is right on multi-view test data",
          lambda t: _acc(t, "nn", "single", "test_multi"), at_least(MULTI_VIEW)),
    *_baseline("rf"),
    *_baseline("ntk"),
    Claim("gaussian control learnable", "networks learn the Gaussian control (chance is 0.1)",
          lambda t: _acc(t, "nn", "single", "test", "gaussian"), at_least(LEARNABLE)),
    Claim("gaussian control no gain", "without views there is no lottery: the ensemble adds little",
          lambda t: _gain(t, "nn", "test", "gaussian"), at_most(CONTROL_GAIN)),
)


# ensemble size (sims/ensemble_size.py) ---------------------------------------------------------------
def _curve(t: Tables, col: str) -> pd.Series:
    """nn: mean over repeats of `col` per number of members."""
    df = t["results"][t["results"].family == "nn"]
    if df.empty or df[col].isna().all():
        raise NotTested(f"{NOT_RUN}no nn rows with {col}")
    return df.groupby("n_members")[col].mean()


def _saturation(t: Tables) -> float:
    acc = _curve(t, "accuracy")
    if acc.index.max() < 8:
        raise NotTested(f"needs 8 or more members, ran {acc.index.max()}")
    return float(acc.iloc[-1] - acc[8])


ENSEMBLE_SIZE = (
    Claim("coverage follows 1 - 2^-n", "n networks cover the views won by any of them: max |coverage - law|",
          lambda t: float((_curve(t, "coverage") - law(_curve(t, "coverage").index)).abs().max()),
          at_most(COVERAGE)),
    Claim("accuracy tracks coverage", "an ensemble is right exactly where a member won the view: max |acc - cov|",
          lambda t: float((_curve(t, "accuracy") - _curve(t, "coverage")).abs().max()), at_most(COVERAGE)),
    Claim("members beyond 8 add nothing", "coverage saturates (2^-8 is left at n = 8): acc(K) - acc(8)",
          _saturation, at_most(COVERAGE)),
)


# born-again chains (sims/self_distillation.py, sims/label_refinery.py) -------------------------------
def _generations(t: Tables, col: str, method: str | None = None) -> pd.Series:
    df = t["results"] if method is None else t["results"][t["results"].method == method]
    if df.empty:
        raise NotTested(f"{NOT_RUN}no rows for {method}")
    return df.groupby(["generation", "repeat"])[col].mean().groupby("generation").mean()


def _coverage_error(t: Tables, method: str | None = None) -> float:
    cov = _generations(t, "chain_coverage", method)
    return float((cov - law(cov.index + 1)).abs().max())


def _later_shortfall(t: Tables) -> float:
    acc = _generations(t, "test_single")
    if acc.index.max() < 2:
        raise NotTested("needs 2 or more generations")
    g = acc.index.max()
    return float((law(g + 1) - law(2)) - (acc[g] - acc[1]))


def _first_gain(t: Tables, method: str | None = None) -> float:
    acc = _generations(t, "test_single", method)
    if acc.index.max() < 1:
        raise NotTested("needs 1 or more generations")
    return float(acc[1] - acc[0])


SELF_DISTILLATION = (
    Claim("chain coverage follows 1 - 2^-(g+1)", "each generation wins its own views: max |chain coverage - law|",
          _coverage_error, at_most(COVERAGE)),
    Claim("first generation gains", "a student of one teacher holds the teacher's view and its own (gain)",
          _first_gain, at_least(SD_GAIN)),
    Claim("later generations add as the law does", "students keep their teacher's views: shortfall of the gain "
          "from generation 1 to the last against the law's", _later_shortfall, at_most(COVERAGE)),
)


def _chains_apart(t: Tables) -> float:
    res = t["results"]
    z = [abs(z_score(*(res[(res.method == m) & (res.generation == g)].groupby("repeat").test_single.mean()
                       for m in ("label_refinery", "born_again"))))
         for g in sorted(res.generation.unique()) if g > 0]
    if not z:
        raise NotTested("needs 1 or more generations")
    return max(z)


LABEL_REFINERY = (
    Claim("chains' coverage follows 1 - 2^-(g+1)", "refinery and born-again chains win views like the lottery: "
          "max |coverage - law|", lambda t: max(_coverage_error(t, m) for m in ("label_refinery", "born_again")),
          at_most(COVERAGE)),
    Claim("refinery first generation gains", "relabelling by one network teaches its view (gain)",
          lambda t: _first_gain(t, "label_refinery"), at_least(SD_GAIN)),
    Claim("refinery matches born-again", "T = 1 and T = 4 chains are one mechanism: max |z| over generations",
          _chains_apart, at_most(NOISE), repeats=2),
)


# KD ablations (sims/dark_knowledge.py, sims/view_dropout.py, sims/kd_regime.py) ---------------------
def _variant(t: Tables, method: str, **where) -> float:
    return mean(t["results"], method=method, split="test_single", **where)


def _knob_curve(t: Tables, knob: str, method: str) -> pd.Series:
    res = t["results"]
    res = res[(res.knob == knob) & (res.method == method) & (res.split == "test_single")]
    if res.empty:
        raise NotTested(f"{NOT_RUN}no {method} rows for {knob}")
    return res.groupby(["value", "repeat"]).accuracy.mean().groupby("value").mean()


def _kept_at(t: Tables, **where) -> float:
    return kept(*(_variant(t, m, **where) for m in ("single", "ensemble", "kd")))


DARK_KNOWLEDGE = (
    Claim("kd needs dark knowledge", "with no off-class features in multi-view samples KD keeps little "
          "(fraction kept)", lambda t: _kept_at(t, knob="data.dark_weight", value=0.0), at_most(NO_TRANSFER)),
    Claim("kd grows with the dark weight", "more off-class weight, more dark knowledge: smallest step of KD "
          "between dark weights", lambda t: float(steps(_knob_curve(t, "data.dark_weight", "kd")).min()),
          (Bound(">", 0.0),)),
    Claim("smoothed teachers teach less", "label smoothing erases the teachers' dark knowledge: largest step of "
          "KD between smoothing levels", lambda t: float(steps(_knob_curve(t, "train.label_smoothing", "kd")).max()),
          (Bound("<", 0.0),)),
)


def _dropout_kept(t: Tables) -> float:
    single = _knob_curve(t, "train.view_dropout", "single")
    ens = _knob_curve(t, "train.view_dropout", "ensemble")
    if 0.0 not in single.index or len(single) < 2:
        raise NotTested("needs p = 0 and a p > 0")
    return kept(single[0.0], ens[0.0], single.iloc[-1])


VIEW_DROPOUT = (
    Claim("dropout approaches the ensemble", "dropping a view makes a network learn both: fraction of the "
          "ensemble's gain a single network reaches at the largest p", _dropout_kept, at_least(KD_KEEPS)),
    Claim("single-view accuracy rises with p", "more dropout, more of both views: smallest step of a single "
          "network's accuracy between dropout rates",
          lambda t: float(steps(_knob_curve(t, "train.view_dropout", "single")).min()), (Bound(">", 0.0),)),
)

KD_REGIME = (
    Claim("defaults: kd keeps the gain", "the distillation phase's defaults transfer the views (fraction kept)",
          lambda t: _kept_at(t, variant="defaults"), at_least(KD_KEEPS)),
    Claim("kd needs dark knowledge", "with no off-class features in multi-view samples KD keeps little "
          "(fraction kept)", lambda t: _kept_at(t, variant="no dark knowledge in multi-view samples"),
          at_most(NO_TRANSFER)),
)


# patch layouts (sims/patch_layout.py): the shared-patch channel outside Def. 3.1 --------------------
PER_CLASS = "per-class step"  # the distillation optimiser the layouts are compared under (the singles')
OVER_CONTROL = 0.15     # KD above its label control by this much: the teacher, not the optimiser, taught views
BARELY = 0.10           # "not by much": KD within this of its label control
ONE_FILTER = 0.5        # most of a student's both-view pairs hold both views in one filter


def _layout(t: Tables, method: str, layout: str, off_class: str = "with", col: str = "accuracy") -> float:
    return mean(t["results"], col, method=method, split="test_single", optimiser=PER_CLASS, layout=layout,
                off_class=off_class)


def _over_control(layout: str, off_class: str = "with") -> Callable[[Tables], float]:
    return lambda t: _layout(t, "kd", layout, off_class) - _layout(t, "label_control", layout, off_class)


PATCH_LAYOUT = (
    Claim("shared: kd beats the label control", "off-class features on shared patches carry the views under the "
          "per-class step: KD minus its label control", _over_control("shared"), at_least(OVER_CONTROL)),
    Claim("shared: kd keeps the gain", "under the per-class step in the shared layout (fraction kept)",
          lambda t: kept(*(_layout(t, m, "shared") for m in ("single", "ensemble", "kd"))), at_least(KD_KEEPS)),
    Claim("own: kd barely beats the label control", "with every feature on its own patches (Def. 3.1) the "
          "per-class step transfers little: KD minus its label control", _over_control("own"), at_most(BARELY)),
    Claim("shared: no off-class weight, no channel", "the shared layout's gain needs off-class weight in multi-view "
          "samples: KD minus its label control at dark weight 0", _over_control("shared", "without"),
          at_most(BARELY)),
    Claim("shared: one filter holds both views", "a filter that learned one view takes the other from off-class "
          "features on its patches: fraction of KD's both-view pairs held by one filter",
          lambda t: _layout(t, "kd", "shared", col="same_filter"), at_least(ONE_FILTER)),
)


# baselines against their width, real digits ----------------------------------------------------------
def _per_width(t: Tables) -> pd.DataFrame:
    res = t["results"][t["results"].split == "test"]
    acc = res.groupby(["family", "width", "method", "repeat"]).accuracy.mean().groupby(
        ["family", "width", "method"]).mean().unstack("method")
    if acc.empty:
        raise NotTested("no test rows")
    return acc


def _kept_per_width(t: Tables) -> float:
    acc = _per_width(t)
    acc = acc[acc.ensemble > acc.single]
    if acc.empty:
        raise NotTested("the ensemble gains at no width")
    return float(((acc.kd - acc.single) / (acc.ensemble - acc.single)).max())


BASELINE_WIDTH = (
    Claim("ensemble gains at every width", "smallest gain of the ensemble over one model",
          lambda t: float((_per_width(t).ensemble - _per_width(t).single).min()), (Bound(">", 0.0),)),
    Claim("kd does not transfer at any width", "a linear student cannot express the ensemble: largest fraction "
          "of the gain kept", _kept_per_width, at_most(NO_TRANSFER)),
    Claim("trained average >= ensemble at every width", "smallest margin of the trained average over the ensemble",
          lambda t: float((_per_width(t).train_average - _per_width(t).ensemble).min()), at_least(-SLACK)),
)

REAL_DIGITS = (
    Claim("nn ensemble gain on digits", "real data have no planted views: a small but positive gain",
          lambda t: _gain(t, "nn", "test", "digits"), (Bound(">", 0.0),)),
)

CLAIMS: dict[str, tuple[Claim, ...]] = {  # the literature sims' claims: predictions_literature.CLAIMS
    "views_per_seed": LOTTERY, "ensemble_vs_ntk": HEADLINE, "sweep": HEADLINE, "ensemble_size": ENSEMBLE_SIZE,
    "self_distillation": SELF_DISTILLATION, "label_refinery": LABEL_REFINERY, "dark_knowledge": DARK_KNOWLEDGE,
    "view_dropout": VIEW_DROPOUT, "kd_regime": KD_REGIME, "patch_layout": PATCH_LAYOUT,
    "baseline_width": BASELINE_WIDTH, "real_digits": REAL_DIGITS,
}

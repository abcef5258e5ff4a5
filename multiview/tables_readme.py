"""README.md's measured blocks: the headline's numbers, what each method showed, the claims' verdicts."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from .claim import mean
from .claims import CLAIMS, check, load
from .quote import by_generation, md, pm, prose, results

# README ----------------------------------------------------------------------------------------------
HEAD = ["single", "ensemble", "kd", "self_distill", "label_control", "train_average"]


def _head(figures: Path) -> pd.DataFrame:
    return results(figures, "ensemble_vs_ntk")


def _nn(figures: Path, method: str, split: str = "test_single") -> float:
    return mean(_head(figures), family="nn", data="multiview", method=method, split=split)


def headline_nn(figures: Path) -> str:
    df = _head(figures)
    names = ["single", "ensemble", "KD", "self-distillation", "label control", "trained average"]
    return md(names, [[pm(df, family="nn", data="multiview", method=m, split="test_single") for m in HEAD]])


def headline_prose(figures: Path) -> str:
    df, s = _head(figures), _nn(figures, "single")
    fam = {f: {m: mean(df, family=f, data="multiview", method=m, split="test") for m in ("single", "ensemble", "kd",
                                                                                         "train_average")}
           for f in ("ntk", "rf")}
    keep = {f: (a["kd"] - a["single"]) / (a["ensemble"] - a["single"]) for f, a in fam.items()}
    g = {m: mean(df, family="nn", data="gaussian", method=m, split="test") for m in ("single", "ensemble")}
    v = check(CLAIMS["ensemble_vs_ntk"], {"results": df})
    verdict = ("All" if v.holds.eq(True).all() else f"{int(v.holds.eq(True).sum())} of the") + \
        f" {len(v)} predictions the headline checks hold"
    return prose(f"KD keeps {(_nn(figures, 'kd') - s) / (_nn(figures, 'ensemble') - s):.0%} of the ensemble's gain, "
            f"self-distillation gains {_nn(figures, 'self_distill') - s:+.3f}, training the average gains "
            f"{_nn(figures, 'train_average') - s:+.3f}. The *label control* trains fresh networks on the hard labels "
            "with exactly the distillation phase's optimiser and step budget: it stays at "
            f"{_nn(figures, 'label_control'):.3f}, so the teacher, not the optimiser, moves the views. For NTK and "
            f"random features the ensemble helps (all test data: {fam['ntk']['single']:.3f} -> "
            f"{fam['ntk']['ensemble']:.3f}, {fam['rf']['single']:.3f} -> {fam['rf']['ensemble']:.3f}), KD keeps "
            f"none of it ({keep['ntk']:.0%}, {keep['rf']:.0%}), and the trained average matches the ensemble "
            f"({fam['ntk']['train_average']:.3f}, {fam['rf']['train_average']:.3f}). On the Gaussian control the "
            f"network ensemble adds only {g['ensemble'] - g['single']:+.3f}. {verdict} "
            "(`python -m multiview.claims figures/ensemble_vs_ntk`).")


def _mean_at(df: pd.DataFrame, **where) -> float:
    return mean(df, split="test_single", **where)


def _growth(figures: Path, folder: str, method: str) -> pd.Series:
    """The second view's growth (Phi units) from each sample group, mean over repeats (sims/kd_channels.py)."""
    g = results(figures, folder, "growth")
    g = g[(g.view == "second") & (g.method == method)]
    return g.groupby(["repeat", "group"]).growth.sum().groupby("group").mean()


def methods(figures: Path) -> str:
    """README's 'what each method showed': one row per method, its numbers from the figures."""
    f = figures
    s, e, kd = _nn(f, "single"), _nn(f, "ensemble"), _nn(f, "kd")
    gen = by_generation(results(f, "self_distillation"), "test_single")
    vd, dk = results(f, "view_dropout"), results(f, "dark_knowledge")
    vd_top = vd.value.max()
    eps = [_mean_at(dk, method="kd", knob="train.label_smoothing", value=x) for x in (0.0, 0.1, 0.2)]
    te = results(f, "teacher_ensembles")
    te10 = [_mean_at(te, method=w, n_teachers=10) for w in ("logits", "probs", "relabel")]
    on = results(f, "online_kd")
    agree = on[(on.model >= 0) & (on.method == "mutual")].groupby("repeat").agreement.first().mean()
    cg = results(f, "capacity_gap")
    widths = [_mean_at(cg, method="kd_direct", width=m) for m in (1, 2, 4, 8)]
    lr = by_generation(results(f, "label_refinery"), "test_single", method="label_refinery")
    cal, cal10 = results(f, "calibration"), results(f, "calibration_margin10")
    kc = results(f, "kd_channels")
    kdg, sdg = _growth(f, "kd_channels", "kd"), _growth(f, "kd_channels", "self_distill")
    rg, rn = _growth(f, "kd_channels_regime", "kd"), _growth(f, "kd_channels_regime_no_dark", "kd")
    pu, pn = results(f, "paper_update"), results(f, "paper_update_no_dark")
    pug = _growth(f, "paper_update", "paper_kd_lam100")
    rows = [
        ["single", "`methods.single`", f"each seed learns one view per class: single-view accuracy {s:.3f}"],
        ["ensemble", "`methods.ensemble_logits`", f"covers both views: {e:.3f}; accuracy equals view coverage, which "
         "follows 1 - 2^-n and saturates by ~8 members (`sims/ensemble_size.py`)"],
        ["KD", "`methods.kd`", f"student learns the view it lost from the ensemble's soft labels: {kd:.3f}. "
         "The lost view grows from two signals (`sims/kd_channels.py`): the ensemble's confidence on the view's "
         f"own single-view samples starts it (+{kdg['own_same']:.2f} in Phi), then its dark knowledge on other "
         f"classes' samples that carry the view (+{kdg['dark']:.2f}), against a pull down from the class's "
         f"multi-view samples ({kdg['own_multi']:+.2f}); either signal alone gives about half the pairs both "
         "views (transfer set of multi-view samples only / single-view samples only: "
         f"{mean(kc, 'both_views', split='test_single', method='kd_multi_view_samples'):.2f} / "
         f"{mean(kc, 'both_views', split='test_single', method='kd_single_view_samples'):.2f}; all samples: "
         f"{mean(kc, 'both_views', split='test_single', method='kd'):.2f})"],
        ["ensemble of KD students", "`kd_ensemble` rows", f"adds a little over one student "
         f"({_nn(f, 'kd_ensemble'):.3f} vs {kd:.3f}): students are closer to each other than singles"],
        ["self-distillation", "`methods.self_distill`", "a student of one teacher wins its own view and learns the "
         f"teacher's: {_nn(f, 'self_distill') - s:+.3f}; the view grows mostly from the teacher's dark knowledge "
         f"on other classes' samples (+{sdg['dark']:.2f} in Phi, vs +{sdg['own_same']:.2f} from its single-view "
         "samples; `sims/kd_channels.py`)"],
        ["born-again generations", "`methods.born_again`, `sims/self_distillation.py`", f"generation 1 gains "
         f"{gen[1] - gen[0]:+.2f}; later ones only {gen.iloc[-1] - gen[1]:+.2f} more ({gen.iloc[-1]:.3f} at g = "
         f"{gen.index[-1]}): students do not keep all their teacher's views"],
        ["the paper's distillation update", "`methods.paper_phase` (`methods=kd_paper,self_distill_paper`), "
         "`sims/paper_update.py`", "one-sided truncated-logit term at eta'/eta = 100 over the singles' step: KD "
         f"{_mean_at(pu, method='paper_kd_lam100'):.3f}, but {_mean_at(pn, method='paper_kd_lam100'):.3f} without "
         "off-class features and "
         f"{_mean_at(pu, method='paper_kd_flat_lam100'):.3f} from a teacher with flattened non-target logits; "
         f"self-distillation with it {_mean_at(pu, method='paper_sd_lam100'):.3f}. The term never pushes a logit "
         "down, so every class's own-class correlations run away (second view's Phi "
         f"+{pug['own_multi']:.0f} from its class's multi-view samples, +{pug['dark']:.0f} from dark knowledge)"],
        ["label control", "`methods.label_control`", "same optimiser and budget, hard labels: no gain "
         f"({_nn(f, 'label_control'):.3f})"],
        ["trained average", "`methods.train_average`", "one lottery for all K sub-networks: no gain "
         f"({_nn(f, 'train_average'):.3f})"],
        ["view dropout", "`train.view_dropout`, `sims/view_dropout.py`", "a single network gains only "
         f"{_mean_at(vd, method='single', value=vd_top) - _mean_at(vd, method='single', value=0.0):+.2f} "
         f"({_mean_at(vd, method='single', value=vd_top):.2f} at p = {vd_top:g} vs KD "
         f"{_mean_at(vd, method='kd', value=0.0):.2f})"],
        ["label-smoothed teachers", "`train.label_smoothing`, `sims/dark_knowledge.py`", "KD keeps less: "
         + " -> ".join(f"{x:.3f}" for x in eps) + " at epsilon 0 / 0.1 / 0.2"],
        ["dark-knowledge ablation", "`sims/dark_knowledge.py`, `sims/kd_channels.py`", "KD works as well with no "
         f"off-class features in multi-view samples ({_mean_at(dk, method='kd', knob='data.dark_weight', value=0.0):.3f})"
         ", because the other signal takes over: in the regime closer to the paper's data (`make mechanisms`) the "
         f"lost view grows from dark knowledge with it (+{rg['dark']:.2f} in Phi, single-view samples "
         f"{rg['own_same']:+.2f}) and from the single-view samples without it ({rn['own_same']:+.2f}); "
         f"KD {_mean_at(results(f, 'kd_channels_regime'), method='kd'):.3f} / "
         f"{_mean_at(results(f, 'kd_channels_regime_no_dark'), method='kd'):.3f}"],
        ["teacher ensembles, four ways", "`literature.ensemble_targets`, `random_teacher_phase`, "
         "`sims/teacher_ensembles.py`", "averaged logits, averaged probabilities and relabelling (T = 1) all "
         "transfer views and improve with the number of teachers ("
         + " -> ".join(f"{_mean_at(te, method='logits', n_teachers=n):.2f}" for n in (1, 2))
         + f" -> {min(te10):.2f}-{max(te10):.2f} for 1 / 2 / 10); one random teacher per step transfers nothing "
         f"({_mean_at(te, method='random', n_teachers=10):.2f})"],
        ["online / mutual KD", "`literature.mutual`, `sims/online_kd.py`", "peers trained together keep independent "
         f"lotteries (view agreement {agree:.2f}) but take in no views ({_mean_at(on, method='mutual'):.2f}, vs "
         f"offline KD {_mean_at(on, method='offline_kd'):.2f} at equal compute): they memorise first"],
        ["hints (FitNets)", "`literature.hints`, `sims/hints.py`", "regressing the ensemble's per-class patch "
         f"activations gives every student both views ({_mean_at(results(f, 'hints'), method='hints'):.3f})"],
        ["capacity gap, teacher assistants", "`literature.via_assistants`, `sims/capacity_gap.py`", "narrower "
         "students take in fewer views (" + " / ".join(f"{x:.2f}" for x in widths) + " at m = 1 / 2 / 4 / 8); "
         "an assistant helps a little at m = 2 only"],
        ["label refinery", "`literature.label_refinery` (= `born_again` at T = 1), `sims/label_refinery.py`",
         "same coverage law as born-again chains (" + " -> ".join(f"{x:.2f}" for x in lr) + "), slightly ahead of "
         "T = 4"],
        ["calibration", "`calibration.ece`, `fit_temperature`, `sims/calibration.py`", "single networks are "
         "uncertain, not confidently wrong, on their missing view (confidence "
         f"{mean(cal, 'conf_missing', method='single'):.2f}; {mean(cal10, 'conf_missing', method='single'):.2f} "
         f"vs accuracy {mean(cal10, 'acc_missing', method='single'):.2f} when trained to margin 10, which one "
         "temperature cannot fix)"],
    ]
    return md(["method", "function", "what it showed here"], rows)


FOLDERS = ("views_per_seed", "ensemble_vs_ntk", "train_average_mean", "train_average_separate", "ensemble_size",
           "self_distillation", "view_dropout", "dark_knowledge", "kd_regime", "baseline_width", "real_digits",
           "sweep_mu", "teacher_ensembles", "online_kd", "hints", "capacity_gap", "calibration",
           "calibration_margin10", "label_refinery",
           "kd_channels", "kd_channels_regime", "kd_channels_regime_no_dark", "paper_update", "paper_update_no_dark",
           "headline_paper_update", "patch_layout")


def claims(figures: Path) -> str:
    """Per figure folder: the claims that hold and those that fail, with measured and needed."""
    rows = []
    for folder in FOLDERS:
        sim, tables, _ = load(Path(figures) / folder)
        if sim == "sweep":
            continue  # a sweep's claims are per grid point: its summary.csv
        v = check(CLAIMS[sim], tables)
        held = v[v.holds.eq(True)]
        failed = v[v.holds.eq(False)]
        rows.append([f"`{folder}/`", f"{len(held)} of {len(v)}" + (f" ({len(v) - len(held) - len(failed)} not run)"
                                                                   if len(v) > len(held) + len(failed) else ""),
                     "; ".join(f"{c.claim}: {c.measured:.3f}, needs {c.needed}" for c in failed.itertuples())
                     or "none"])
    return md(["figure", "claims that hold", "claims that FAIL (measured, needed)"], rows)


BLOCKS = {"headline_nn": headline_nn, "headline_prose": headline_prose, "methods": methods, "claims": claims}

"""The distillation literature's predictions as claims (paper_notes.md sec. 9), per sim: teacher
ensembles, online KD, hints, capacity gap, calibration. Thresholds are `predictions`'."""
from __future__ import annotations

from typing import Callable

import pandas as pd

from .claim import NOT_RUN, Bound, Claim, NotTested, Tables, at_least, at_most, mean, per_repeat, steps, z_score
from .predictions import NOISE, SD_GAIN


def _students(t: Tables, method: str, **where) -> pd.Series:
    return per_repeat(t["results"], method=method, split="test_single", **where)


def _most_teachers(t: Tables) -> int:
    return int(t["results"].n_teachers.max())


def _ways_apart(t: Tables, a: str, b: str) -> float:
    n = _most_teachers(t)
    return abs(z_score(_students(t, a, n_teachers=n), _students(t, b, n_teachers=n)))


def _improves(t: Tables) -> float:
    res = t["results"]
    curves = [res[(res.method == w) & (res.split == "test_single")].groupby(["n_teachers", "repeat"])
              .accuracy.mean().groupby("n_teachers").mean() for w in ("logits", "probs", "relabel")]
    return float(min(steps(c).min() for c in curves))


def _random_over_one(t: Tables) -> float:
    return float(_students(t, "random", n_teachers=_most_teachers(t)).mean()
                 - _students(t, "logits", n_teachers=1).mean())


def _ensemble_ways_gain(t: Tables) -> float:
    return float(_students(t, "logits", n_teachers=_most_teachers(t)).mean()
                 - _students(t, "logits", n_teachers=1).mean())


TEACHER_ENSEMBLES = (
    Claim("logits and probabilities agree", "both averages carry the views at T = 4: |z| at the most teachers",
          lambda t: _ways_apart(t, "logits", "probs"), at_most(NOISE), repeats=2),
    Claim("relabelling agrees with logits", "T does not matter, so relabelling (T = 1) is as good: |z| at the "
          "most teachers", lambda t: _ways_apart(t, "relabel", "logits"), at_most(NOISE), repeats=2),
    Claim("more teachers, more views", "every way improves as the teachers' coverage does: smallest step "
          "between teacher counts", _improves, (Bound(">", 0.0),)),
    Claim("random teacher per step in between", "one teacher per step: above one teacher's KD, below the "
          "ensemble ways (gain over one teacher)", _random_over_one,
          (Bound(">", 0.0), Bound("<", _ensemble_ways_gain, "the logit average's gain"))),
)


def _agreement(t: Tables, method: str) -> float:
    res = t["results"]
    res = res[(res.model >= 0) & (res.method == method)]
    if res.empty:
        raise NotTested(f"{NOT_RUN}no rows for {method}")
    return float(res.groupby("repeat").agreement.first().mean())


def _online(method: str) -> Callable[[Tables], float]:
    return lambda t: float(_students(t, method).mean() - _students(t, "single").mean())


ONLINE_KD = (
    Claim("peers keep independent lotteries", "the lottery is over before peers know anything: agreement "
          "after phase 1, from independent seeds (0) to one shared winner (1)",
          lambda t: (_agreement(t, "mutual_phase1") - _agreement(t, "single")) / (1 - _agreement(t, "single")),
          (Bound("<", 0.5),)),
    Claim("peers teach each other, less than offline KD", "mutual KD acts like KD from the other peers (gain)",
          _online("mutual"), (Bound(">=", SD_GAIN), Bound("<", _online("offline_kd"), "offline KD's gain"))),
    Claim("reverse KL transfers less", "a mode-seeking divergence grows no mass: balanced minus forward",
          lambda t: float(_students(t, "balanced").mean() - _students(t, "mutual").mean()), (Bound("<", 0.0),)),
)


def _better_of_two(t: Tables) -> float:
    best = pd.concat([_students(t, "hints"), _students(t, "kd")], axis=1).max(axis=1)
    return abs(z_score(_students(t, "hints_then_kd"), best))


HINTS = (
    Claim("hints at least as good as kd", "regressing the ensemble's patch activations pulls the missing view "
          "directly: hints minus KD", lambda t: float(_students(t, "hints").mean() - _students(t, "kd").mean()),
          at_least(0.0)),
    Claim("hints then kd as the better of the two", "the two signals carry the same views: |z| against the "
          "better one", _better_of_two, at_most(NOISE), repeats=2),
)


def _width_gap(t: Tables) -> float:
    widths = sorted(t["results"].width.unique())
    return abs(z_score(_students(t, "kd_direct", width=widths[0]), _students(t, "kd_direct", width=widths[-1])))


def _assistant(t: Tables) -> float:
    res = t["results"]
    widths = sorted(res[res.method == "kd_via_assistant"].width.unique())
    if not widths:
        raise NotTested(f"{NOT_RUN}no rows for kd_via_assistant")
    return max(z_score(_students(t, "kd_via_assistant", width=w), _students(t, "kd_direct", width=w))
               for w in widths)


CAPACITY_GAP = (
    Claim("no capacity gap from views", "one filter per class can hold both views: |z| of the narrowest "
          "student's KD against the widest's", _width_gap, at_most(NOISE), repeats=2),
    Claim("an assistant does not help", "an assistant passes on only the views it learned: largest z of via "
          "the assistant over direct", _assistant, at_most(NOISE), repeats=2),
)


def _calibration_gap(t: Tables, method: str, split: str) -> float:
    res = t["results"]
    return mean(res, col=f"conf_{split}", method=method) - mean(res, col=f"acc_{split}", method=method)


CALIBRATION = (
    Claim("single networks over-confident", "a single network needs softening: its fitted temperature",
          lambda t: mean(t["results"], col="temperature", method="single"), (Bound(">", 1.0),)),
    Claim("over-confidence on the missing view", "confidence minus accuracy on a missing view's samples, "
          "minus the same on a learned view's", lambda t: _calibration_gap(t, "single", "missing")
          - _calibration_gap(t, "single", "learned"), (Bound(">", 0.0),)),
    Claim("students calibrated on the missing view", "students that hold both views are honest there: worst "
          "student |conf - acc| minus the single network's", lambda t: max(
              abs(_calibration_gap(t, m, "missing")) for m in ("kd", "self_distill"))
          - abs(_calibration_gap(t, "single", "missing")), (Bound("<", 0.0),)),
    Claim("label smoothing lowers ECE", "smoothing lowers every confidence: its ECE minus the single network's",
          lambda t: mean(t["results"], col="ece", method="label_smoothing")
          - mean(t["results"], col="ece", method="single"), (Bound("<", 0.0),)),
)


CLAIMS: dict[str, tuple[Claim, ...]] = {
    "teacher_ensembles": TEACHER_ENSEMBLES, "online_kd": ONLINE_KD, "hints": HINTS, "capacity_gap": CAPACITY_GAP,
    "calibration": CALIBRATION,
}

"""The theory's claims on the mechanism sims: which part of the distillation signal carries a lost
view (sims/kd_channels.py) and the paper's own distillation update (sims/paper_update.py).

The paper's mechanism: the ensemble's output on a sample of another class that carries view v_{j,l}
gives class j a little probability ("this car is a bit of a cat"); a student that lost v_{j,l}
cannot match it except by growing v_{j,l}. So the lost view grows from the `dark` group of samples,
through the non-target part of the soft targets. Thresholds as constants, each with its meaning.
"""
from __future__ import annotations

import pandas as pd

from .claim import Bound, Claim, NotTested, Tables, at_least, kept, mean
from .predictions import KD_KEEPS

DARK_SHARE = 0.5     # the dark group gives most (>= half) of the lost view's growth under KD
PART_KEEPS = 0.5     # a part of the signal "carries" the view: it keeps >= half of what full KD keeps over the label control


def _acc(t: Tables, method: str) -> float:
    return mean(t["results"], method=method, split="test_single")


def _share(t: Tables, method: str, group: str) -> float:
    g = t["growth"]
    g = g[(g.view == "second") & (g.method == method)]
    if g.empty:
        raise NotTested(f"no growth records for {method}")
    per = g.groupby(["repeat", "group"]).growth.sum().unstack()
    return float((per[group] / per.sum(axis=1)).mean())


def _part_keeps(t: Tables, part: str, full: str = "kd", control: str = "label_control") -> float:
    base = _acc(t, control)
    gain = _acc(t, full) - base
    if gain <= 0:
        raise NotTested(f"{full} does not beat {control}")
    return (_acc(t, part) - base) / gain


def _kd_kept(t: Tables, method: str = "kd") -> float:
    return kept(_acc(t, "single"), _acc(t, "ensemble"), _acc(t, method))


KD_CHANNELS = (
    Claim("kd keeps the gain", "full KD on these teachers and seeds transfers the views (fraction kept)",
          _kd_kept, at_least(KD_KEEPS)),
    Claim("the lost view grows from dark knowledge", "share of the KD students' second-view growth from "
          "other classes' samples that carry the view", lambda t: _share(t, "kd", "dark"), at_least(DARK_SHARE)),
    Claim("the non-target part carries it", "NCKD with the labels keeps at least half of KD's gain over the "
          "label control (fraction)", lambda t: _part_keeps(t, "ce+nckd"), at_least(PART_KEEPS)),
)


def _best_paper(t: Tables, prefix: str) -> pd.Series:
    res = t["results"]
    res = res[res.method.str.startswith(prefix) & (res.split == "test_single")]
    if res.empty:
        raise NotTested(f"no {prefix} rows")
    return res.groupby(["method", "repeat"]).accuracy.mean().groupby("method").mean()


PAPER_UPDATE = (
    Claim("the paper's update transfers", "the paper's KD update at its best eta'/eta keeps the ensemble's "
          "gain (fraction kept)", lambda t: kept(_acc(t, "single"), _acc(t, "ensemble"),
                                                  float(_best_paper(t, "paper_kd_").max())), at_least(KD_KEEPS)),
    Claim("it beats its label control", "best paper KD minus the label control under the same optimiser",
          lambda t: float(_best_paper(t, "paper_kd_").max()) - _acc(t, "paper_label_control"), (Bound(">", 0.0),)),
)

CLAIMS = {"kd_channels": KD_CHANNELS, "paper_update": PAPER_UPDATE}

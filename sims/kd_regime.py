"""What makes KD transfer the ensemble's views here? KD from the ensemble of K networks under one
change at a time to the distillation phase (its step normalisation, step size and length), the
data's dark knowledge, the temperature and the loss.

Each variant retrains the teachers only when it changes the data, model or training config.
Writes results.csv (with a `variant` column), config.json and kd_regime.{png,pdf}; prints a table.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.experiment import NetworkConfig
from multiview.variants import kd_variants
from multiview.sim import Sim

VARIANTS = [
    ("defaults", []),
    ("one step norm per class (W and C together)", ["distill.normalise=class"]),
    ("per class, eta 0.02, 300 steps (the first version)", ["distill.normalise=class", "distill.step_size=0.02",
                                                             "distill.steps=300"]),
    ("eta 0.01 (5x larger)", ["distill.step_size=0.01"]),
    ("1000 steps", ["distill.steps=1000"]),
    ("300 steps", ["distill.steps=300"]),
    ("no dark knowledge in multi-view samples", ["data.dark_weight=0"]),
    ("no off-class features at all", ["data.dark_prob=0"]),
    ("no off-class features, view weights fixed at 0.75", ["data.dark_prob=0", "data.view_weight_min=0.75",
                                                           "data.view_weight_max=0.75"]),
    ("view weights fixed at 0.75", ["data.view_weight_min=0.75", "data.view_weight_max=0.75"]),
    ("T=1", ["distill.T=1"]),
    ("T=16", ["distill.T=16"]),
    ("one-sided KD", ["distill.one_sided=true"]),
]


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    return {"results": kd_variants(cfg, VARIANTS, r, device, quiet)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    table = kd_table(tables["results"])
    plots.kd_variants(table, out / "kd_regime")
    return table.round(3).to_string()


def kd_table(df: pd.DataFrame) -> pd.DataFrame:
    """variant -> single, ensemble, kd single-view accuracy, kept fraction of the gain, both-view rates."""
    s = df[df.split == "test_single"].groupby(["variant", "method", "repeat"], sort=False)
    acc = s.accuracy.mean().groupby(["variant", "method"], sort=False).mean().unstack()
    both = s.both_views.mean().groupby(["variant", "method"], sort=False).mean().unstack()
    t = pd.DataFrame({"single": acc["single"], "ensemble": acc["ensemble"], "kd": acc["kd"]})
    t["kd_keeps"] = (t.kd - t.single) / (t.ensemble - t.single)
    t["both_single"], t["both_kd"] = both["single"], both["kd"]
    kd = df[df.method == "kd"].groupby("variant", sort=False)
    t["teacher_dark_logit"] = kd.teacher_dark_logit.mean()
    t["student_dark_logit"] = kd.student_dark_logit.mean()
    return t.loc[list(dict.fromkeys(df.variant))]


SIM = Sim("kd_regime", __doc__, NetworkConfig(repeats=1), one_repeat, report, info={"variants": VARIANTS})


if __name__ == "__main__":
    SIM.main()

"""What makes KD transfer the ensemble's views here? KD from the ensemble of K networks under one
change at a time to the distillation phase (its step normalisation, step size and length), the
data's dark knowledge, the temperature and the loss.

Each variant retrains the teachers only when it changes the data, model or training config.
Writes results.csv (with a `variant` column), config.json and kd_regime.{png,pdf}; prints a table.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, kd_variants, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402

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


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    return {"results": kd_variants(cfg, VARIANTS, r, device, quiet)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("kd_regime", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = kd_table(df)
    plots.kd_variants(table, out / "kd_regime")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="kd_regime",
                          variants=VARIANTS), out / "config.json")
    print(table.round(3).to_string())
    claims.report(out)


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


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=1), run, __doc__, default_out="figures/kd_regime", argv=argv)


if __name__ == "__main__":
    main()

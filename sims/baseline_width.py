"""How the random-feature and linearised (NTK) baselines depend on their width: every headline
method at each width, on multi-view data. Shows where the comparison with networks is informative.

Writes results.csv (with a `width` column), config.json and baseline_width.{png,pdf}.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.config import ListOf, knob, override
from multiview.experiment import repeat_data
from multiview.families import maker
from multiview.headline import LearnersConfig, run_methods
from multiview.report import summary
from multiview.sim import Sim

WIDTHS = {"ntk": ("ntk.m", (1, 2, 4)), "rf": ("rf.width", (10, 20, 40, 80))}


@dataclass(frozen=True)
class WidthConfig(LearnersConfig):
    families: str = knob(",".join(WIDTHS), ListOf(tuple(WIDTHS)), "baseline families to sweep (their widths: WIDTHS)")


def one_repeat(cfg: WidthConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    rows = []
    for family in cfg.families.split(","):
        key, widths = WIDTHS[family]
        for w in widths:
            wcfg = override(cfg, [f"{key}={w}"])
            res = run_methods(family, maker(family, wcfg, cfg.data.k, train, r, device), train, test, wcfg,
                              {"data": "multiview", "repeat": r}, quiet)[0]
            rows += [{**row, "width": w} for row in res]
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: WidthConfig, out: Path) -> str:
    df = tables["results"]
    table = pd.concat({w: summary(g) for w, g in df.groupby("width")}, names=["width"]).reset_index(level=0)
    plots.accuracy_vs_width(table, out / "baseline_width")
    show = table[(table.split == "test") & table.method.isin(["single", "ensemble", "kd", "train_average"])]
    return show.pivot_table(index=["family", "width"], columns="method", values="mean").round(3).to_string()


SIM = Sim("baseline_width", __doc__, WidthConfig(repeats=2), one_repeat, report, data_kinds=("multiview",),
          info={"widths": WIDTHS})


if __name__ == "__main__":
    SIM.main()

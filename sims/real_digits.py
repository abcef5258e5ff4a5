"""The real-data bridge: every headline family and method on scikit-learn's handwritten digits (8x8
images cut into patches; no download), the sandbox's stand-in for the paper's CIFAR-10 comparison.

Writes results.csv (the headline's schema; splits train and test), config.json and
real_digits.{png,pdf}; prints the table of means +- std over repeats.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.digits import DigitsConfig, generate_digits
from multiview.families import maker
from multiview.headline import LearnersConfig, run_methods
from multiview.report import headline_table
from multiview.seeding import DATA, derive
from multiview.sim import Sim


@dataclass(frozen=True)
class RealDigitsConfig(LearnersConfig):
    """Every headline family and method on the digits."""
    data: DigitsConfig = field(default_factory=DigitsConfig)


def one_repeat(cfg: RealDigitsConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = generate_digits(cfg.data, derive(cfg.seed, r, DATA))
    train, test = train.to(device), test.to(device)
    rows = []
    for family in cfg.families.split(","):
        make = maker(family, cfg, cfg.data.k, train, r, device)
        rows += run_methods(family, make, train, test, cfg, {"data": "digits", "repeat": r}, quiet)[0]
    return {"results": pd.DataFrame(rows)}


def report(tables, cfg: RealDigitsConfig, out: Path) -> str:
    plots.headline(tables["results"], out / "real_digits")
    return headline_table(tables["results"]).to_string()


SIM = Sim("real_digits", __doc__, RealDigitsConfig(repeats=2), one_repeat, report, data_kinds=None)


if __name__ == "__main__":
    SIM.main()

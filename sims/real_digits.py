"""The real-data bridge: every headline family and method on scikit-learn's handwritten digits (8x8
images cut into patches; no download), the sandbox's stand-in for the paper's CIFAR-10 comparison.

Writes results.csv (the headline's schema; splits train and test), config.json and
real_digits.{png,pdf}; prints the table of means +- std over repeats.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, plots  # noqa: E402
from multiview.digits import RealDigitsConfig, generate_digits  # noqa: E402
from multiview.experiment import maker, run_methods, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import headline_table  # noqa: E402
from multiview.seeding import derive  # noqa: E402


def one_repeat(cfg: RealDigitsConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = generate_digits(cfg.data, derive(cfg.seed, r, 0))
    train, test = train.to(device), test.to(device)
    rows = []
    for family in cfg.families.split(","):
        make = maker(family, cfg, cfg.data.k, train, r, device)
        rows += run_methods(family, make, train, test, cfg, {"data": "digits", "repeat": r}, quiet)[0]
    return {"results": pd.DataFrame(rows)}


def run(cfg: RealDigitsConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("real_digits", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    plots.headline(df, out / "real_digits")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="real_digits"), out / "config.json")
    print(headline_table(df).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(RealDigitsConfig(repeats=2), run, __doc__, default_out="figures/real_digits", argv=argv)


if __name__ == "__main__":
    main()

"""How the random-feature and linearised (NTK) baselines depend on their width: every headline
method at each width, on multi-view data. Shows where the comparison with networks is informative.

Writes results.csv (with a `width` column), config.json and baseline_width.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, plots  # noqa: E402
from multiview.config import override  # noqa: E402
from multiview.experiment import HeadlineConfig, maker, repeat_data, run_methods, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import summary  # noqa: E402

WIDTHS = {"ntk": ("ntk.m", (1, 2, 4)), "rf": ("rf.width", (10, 20, 40, 80))}


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    rows = []
    for family, (key, widths) in WIDTHS.items():
        for w in widths:
            wcfg = override(cfg, [f"{key}={w}"])
            res = run_methods(family, maker(family, wcfg, cfg.data.k, train, r, device), train, test, wcfg,
                              {"data": "multiview", "repeat": r}, quiet)[0]
            rows += [{**row, "width": w} for row in res]
    return {"results": pd.DataFrame(rows)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("baseline_width", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = pd.concat({w: summary(g) for w, g in df.groupby("width")}, names=["width"]).reset_index(level=0)
    plots.accuracy_vs_width(table, out / "baseline_width")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="baseline_width",
                          widths=WIDTHS), out / "config.json")
    show = table[(table.split == "test") & table.method.isin(["single", "ensemble", "kd", "train_average"])]
    print(show.pivot_table(index=["family", "width"], columns="method", values="mean").round(3).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=2), run, __doc__, default_out="figures/baseline_width", argv=argv)


if __name__ == "__main__":
    main()

"""Hints (FitNets style): fresh networks regress the teacher ensemble's first-layer activations, the
layer where the views live. The matched activation is class j's response to patch p,
a_{j,p} = sum_r sReLU(<w_{j,r}, x_p>), which does not depend on the order of the filters. Compared:
hints alone, hints followed by ordinary KD (same step budget per phase), KD alone.
Writes results.csv, config.json and hints.{png,pdf}.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from multiview import claims, cli, literature as L, methods as M, plots  # noqa: E402
from multiview.experiment import HeadlineConfig, accuracy_rows, maker, model_rows, repeat_data, run_repeats  # noqa: E402
from multiview.io import provenance, write_csv, write_json  # noqa: E402
from multiview.report import by_method  # noqa: E402


def one_repeat(cfg: HeadlineConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    train, test = repeat_data(cfg, r, device)
    make = maker("nn", cfg, cfg.data.k, train, r, device)
    teachers = M.single(make, train, cfg.train, quiet)[0]
    rows = model_rows(teachers, train, test, method="single", repeat=r)
    rows += accuracy_rows(M.ensemble_logits(teachers, train), M.ensemble_logits(teachers, test), train, test,
                          method="ensemble", repeat=r, model=-1)
    kd = M.distill(make, M.ensemble_logits(teachers, train), train, cfg.train, cfg.distill, group=30, quiet=quiet)[0]
    rows += model_rows(kd, train, test, method="kd", repeat=r)
    hinted = L.hints(make, teachers, train, cfg.train, cfg.distill, group=30, quiet=quiet)
    rows += model_rows(hinted, train, test, method="hints", repeat=r)
    rows += model_rows(L.then_kd(hinted, teachers, train, cfg.train, cfg.distill, quiet), train, test,
                       method="hints_then_kd", repeat=r)
    return {"results": pd.DataFrame(rows)}


def run(cfg: HeadlineConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    df = run_repeats("hints", one_repeat, cfg, device, quiet, store)["results"]
    write_csv(df, out / "results.csv")
    table = by_method(df, [])
    plots.variants(table, out / "hints", title="hints (first-layer activations) vs KD from the ensemble")
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="hints"), out / "config.json")
    print(table.round(3).to_string(index=False))
    claims.report(out)


def main(argv=None) -> None:
    cli.main(HeadlineConfig(repeats=3, datasets="multiview", families="nn"), run, __doc__,
             default_out="figures/hints", argv=argv)


if __name__ == "__main__":
    main()

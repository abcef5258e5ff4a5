"""Does KD transfer the ensemble's views when off-class features may share a view's patches? KD from
the ensemble of K networks and its label control (students on the hard labels with the same
distillation optimiser and budget) in both patch layouts (`data.dark_layout`: own = Def. 3.1, each
feature on patches of its own; shared = each off-class feature added to random patches, possibly a
view's), with and without off-class weight in multi-view samples (`data.dark_weight=0`), under two
distillation optimisers: the singles' per-class step (eta 0.02, 600 steps) and the default one.

Prediction (measured beside an independent prototype, shared/reference/README.md): under the
per-class step, KD beats its label control by far in the shared layout and barely in the own one;
without off-class weight the shared layout's gain goes too; in the shared layout a KD student holds
both views of a class in one filter (the filter that learned one view is linear on its patches, so
an off-class feature there gets full-strength gradient).

Writes results.csv (with `variant`, `optimiser`, `off_class` and `layout` columns), config.json and
patch_layout_{own,shared}_{with,without}.{png,pdf} (one per data set, i.e. per set of
teachers); prints a table.
"""
from __future__ import annotations

from itertools import product
from pathlib import Path

import pandas as pd

from multiview import plots
from multiview.experiment import NetworkConfig
from multiview.variants import kd_variants
from multiview.quote import pm
from multiview.report import by_method
from multiview.sim import Sim

OPTIMISERS = {"per-class step": ["distill.normalise=class", "distill.step_size=0.02", "distill.steps=600"],
              "default step": []}
OFF_CLASS = {"with": [], "without": ["data.dark_weight=0"]}   # off-class weight in multi-view samples
LAYOUTS = ("own", "shared")
PARTS = {f"{layout}, off-class {off}, {opt}": (opt, off, layout)   # variant -> its three choices
         for opt, off, layout in product(OPTIMISERS, OFF_CLASS, LAYOUTS)}
VARIANTS = [(label, [f"data.dark_layout={layout}", *OFF_CLASS[off], *OPTIMISERS[opt]])
            for label, (opt, off, layout) in PARTS.items()]
METHODS = ("single", "ensemble", "kd", "label_control")
LEARNERS = ("single", "kd", "label_control")  # the methods whose models have views (not the ensemble)
KEYS = ["optimiser", "off_class", "layout"]


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool) -> dict[str, pd.DataFrame]:
    df = kd_variants(cfg, VARIANTS, r, device, quiet, label_control=True)
    parts = pd.DataFrame([PARTS[v] for v in df.variant], columns=KEYS)
    return {"results": pd.concat([df, parts], axis=1)}


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    df = tables["results"]
    for (layout, off), rows in df.groupby(["layout", "off_class"], sort=False):
        plots.variants(bars(rows), out / f"patch_layout_{layout}_{off}",
                       title=f"{layout} layout, {off} off-class weight in multi-view samples")
    return layout_table(df).to_string()


def layout_table(df: pd.DataFrame) -> pd.DataFrame:
    """(optimiser, off_class, layout) -> 'mean +- std' over repeats of the single-view test accuracy
    of each method, of the students' fraction of (model, class) pairs with both views, and of the
    fraction of those pairs whose two views are held by one filter."""
    cells = {m: ("accuracy", m) for m in METHODS}
    cells |= {f"both: {m}": ("both_views", m) for m in LEARNERS}
    cells |= {f"one filter: {m}": ("same_filter", m) for m in ("kd", "label_control")}
    test = df[df.split == "test_single"]
    rows = [[pm(test, col, method=m, **dict(zip(KEYS, part))) for col, m in cells.values()] for part in PARTS.values()]
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(PARTS.values(), names=KEYS), columns=list(cells))


def bars(df: pd.DataFrame) -> pd.DataFrame:
    """plots.variants' table for one (layout, off-class weight): the teachers (single, ensemble) and a
    bar per student method and distillation optimiser."""
    teachers = df.method.isin(("single", "ensemble"))
    named = df.method.str.replace("_", " ") + ", " + df.optimiser
    return by_method(df.assign(method=df.method.where(teachers, named)), [])


SIM = Sim("patch_layout", __doc__, NetworkConfig(), one_repeat, report, info={"variants": VARIANTS})


if __name__ == "__main__":
    SIM.main()

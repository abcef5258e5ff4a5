"""A sim as a declaration: its default config, its unit function (one repeat -> tables), and its
report (tables -> figures and the summary it prints). Everything else is the same for every sim and
lives here: the command line (cli.py), the runner (runner.py), writing each table as NAME.csv with
config.json beside it, printing the summary and the verdicts of the sim's claims.

    SIM = Sim("view_dropout", __doc__, NetworkConfig(repeats=2), one_repeat, report)
    if __name__ == "__main__":
        SIM.main()
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .cache import Store, Tables
from .config import fail
from .io import provenance, write_csv, write_json
from .runner import Runner, concat

Report = Callable  # (tables, cfg, out, **options) -> str: draws the figures, returns the summary to print


@dataclass(frozen=True)
class Sim:
    """name: the cache folder, config.json's `sim` and the default --out figures/NAME.
    unit(cfg, repeat, device, quiet) -> tables of one repeat (runner.Unit).
    report(tables, cfg, out, **options) -> the summary printed (it writes the figures and any derived table).
    parts(cfg) -> configs whose tables, concatenated, make one repeat (each its own unit; largest first).
    points(cfg, **options) -> [(labels, cfg)]: a grid; each point's tables get its labels as columns,
        ordered by point, then repeat; its units are kept in OUT/points, beside its results.
    data_kinds: the data.kind values the sim can measure (None: any).
    jobs: the default of --jobs. info: fixed settings of the sim recorded in config.json.
    options: (flag, argparse kwargs) of the sim's own command-line options, passed by their dest."""
    name: str
    doc: str
    config: object
    unit: Callable
    report: Report
    parts: Callable | None = None
    points: Callable | None = None
    data_kinds: tuple | None = ("multiview", "single_feature")
    jobs: int = 1
    info: dict = field(default_factory=dict)
    options: tuple = ()

    def check(self, cfg, **options) -> None:
        """Refuse a config the sim cannot measure, or a grid point's overrides that are not valid
        (before anything runs or is written)."""
        kind = getattr(getattr(cfg, "data", None), "kind", None)
        if self.data_kinds is not None and kind not in self.data_kinds:
            fail("data.kind", kind, f"one of {', '.join(self.data_kinds)} here ({self.name} measures views)")
        if self.points is not None:
            self.points(cfg, **options)

    def store(self, out: Path, cache: Path | None, force: bool) -> Store:
        if self.points is not None:  # a grid keeps its points beside its results
            return Store(out / "points", force=force)
        return Store(None if cache is None else cache / self.name, force=force)

    def compute(self, cfg, runner: Runner, **options) -> Tables:
        """Every unit's tables through the runner, concatenated."""
        if self.points is None:
            return runner.repeats(self.name, self.unit, cfg, self.parts(cfg) if self.parts else None)
        points = self.points(cfg, **options)
        units = [(pcfg, r) for _, pcfg in points for r in range(cfg.repeats)]
        got = iter(runner.units(self.name, self.unit, units))
        return concat([{t: df.assign(**labels) for t, df in next(got).items()}
                       for labels, _ in points for _ in range(cfg.repeats)])

    def run(self, cfg, out: Path, runner: Runner, **options) -> Tables:
        """Compute, write every non-empty table and config.json, print the summary and the claims."""
        from . import claims

        start = time.time()
        tables = self.compute(cfg, runner, **options)
        for name, df in tables.items():
            if len(df):
                write_csv(df, Path(out) / f"{name}.csv")
        summary = self.report(tables, cfg, Path(out), **options)
        write_json(provenance(cfg, runner.device, time.time() - start, runner=runner, sim=self.name,
                              **self.info, **options), Path(out) / "config.json")
        print(summary)
        claims.report(Path(out))
        return tables

    def main(self, argv=None) -> None:
        from . import cli
        cli.main(self, argv)

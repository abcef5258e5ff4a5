"""The paper's own distillation update: cross-entropy with the singles' step plus a one-sided term
with its own, larger rate eta' = lam * eta that only raises a class's logit where the student's
truncated tempered probability, softmax(min(tau^2 F, 1) / tau) with tau = 1 / log^2 k, is below the
teacher's (multiview/channels.py: paper_update_loss). KD from the ensemble (paper_kd) and
self-distillation from one teacher each (paper_sd) over a sweep of lam, against the label control
under the same optimiser (lam = 0), and paper KD at distill.paper_lam from the ensemble with its
non-target logits flattened to their mean (no dark knowledge in the targets). Every fit records
where each view's growth came from.

Writes results.csv, growth.csv, accounting.csv (the instrument's total against Phi's change),
channels.csv, config.json, paper_update.{png,pdf} and growth.{png,pdf}.
"""
from __future__ import annotations

import time
from pathlib import Path

from multiview import claims, cli
from multiview.experiment import run_repeats
from multiview.io import provenance, write_json
from multiview.mechanism import MechanismConfig, mechanism_repeat, write_tables, paper_phases
from multiview.methods import paper_distill

LAMS = (10, 100, 1000)  # eta' / eta


def one_repeat(cfg: MechanismConfig, r: int, device: str, quiet: bool):
    batch = (lambda teachers, train: paper_phases(teachers, train, cfg.distill, LAMS), paper_distill(cfg.distill, cfg.train))
    return mechanism_repeat(cfg, r, device, quiet, [batch])


def run(cfg: MechanismConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    tables = run_repeats("paper_update", one_repeat, cfg, device, quiet, store)
    table = write_tables(tables, out, "paper_update", ["paper_label_control"] + [f"paper_{w}_lam{lam:g}" for w in ("kd", "sd") for lam in LAMS[-2:]])
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="paper_update", lams=LAMS),
               out / "config.json")
    print(table.round(3).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(MechanismConfig(), run, __doc__, default_out="figures/paper_update", argv=argv)


if __name__ == "__main__":
    main()

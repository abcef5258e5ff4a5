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

from pathlib import Path

from multiview.experiment import NetworkConfig
from multiview.mechanism import mechanism_repeat, write_tables, paper_phases
from multiview.methods import paper_distill
from multiview.sim import Sim

LAMS = (10, 100, 1000)  # eta' / eta


def one_repeat(cfg: NetworkConfig, r: int, device: str, quiet: bool):
    batch = (lambda teachers, train: paper_phases(teachers, train, cfg.distill, LAMS), paper_distill(cfg.distill, cfg.train))
    return mechanism_repeat(cfg, r, device, quiet, [batch])


def report(tables, cfg: NetworkConfig, out: Path) -> str:
    shown = ["paper_label_control"] + [f"paper_{w}_lam{lam:g}" for w in ("kd", "sd") for lam in LAMS[-2:]]
    return write_tables(tables, out, "paper_update", shown).round(3).to_string()


SIM = Sim("paper_update", __doc__, NetworkConfig(), one_repeat, report, info={"lams": LAMS})


if __name__ == "__main__":
    SIM.main()

"""Which part of the distillation signal carries a lost view? Students on the same teachers, seeds
and optimiser, each trained on one part of the ensemble's soft targets: full KD, its target-class and
non-target parts (Decoupled KD's TCKD and NCKD), the gradient let through the target logit only or
the non-target logits only (the two non-target parts also with the labels' cross-entropy, since alone
they never ask for the target class), the transfer set cut to multi-view or to single-view samples, and two
surgeries on the targets (non-target probabilities permuted within each sample; the target
probability replaced by its class mean); with self-distillation and the label control. Every fit
records where each view's growth came from (multiview/growth.py).

Writes results.csv, growth.csv, accounting.csv (the instrument's total against Phi's change),
channels.csv, config.json, channels.{png,pdf} and growth.{png,pdf}.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from multiview import claims, cli
from multiview.config import ListOf, knob
from multiview.experiment import run_repeats
from multiview.io import provenance, write_json
from multiview.mechanism import CHANNELS, MechanismConfig, channel_phases, mechanism_repeat, write_tables
from multiview.seeding import derive


@dataclass(frozen=True)
class ChannelsConfig(MechanismConfig):
    variants: str = knob(",".join(CHANNELS), ListOf(CHANNELS), "the student variants to train")


def one_repeat(cfg: ChannelsConfig, r: int, device: str, quiet: bool):
    names = cfg.variants.split(",")
    batch = (lambda teachers, train: channel_phases(teachers, train, cfg.distill, derive(cfg.seed, r, 9), names),
             cfg.distill)
    return mechanism_repeat(cfg, r, device, quiet, [batch])


def run(cfg: ChannelsConfig, out: Path, device: str, quiet: bool, store=None) -> None:
    start = time.time()
    tables = run_repeats("kd_channels", one_repeat, cfg, device, quiet, store)
    table = write_tables(tables, out, "channels", ["single", "kd", "self_distill", "label_control"])
    write_json(provenance(cfg, device, time.time() - start, store=store, sim="kd_channels"), out / "config.json")
    print(table.round(3).to_string())
    claims.report(out)


def main(argv=None) -> None:
    cli.main(ChannelsConfig(), run, __doc__, default_out="figures/kd_channels", argv=argv)


if __name__ == "__main__":
    main()

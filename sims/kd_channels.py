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

from dataclasses import dataclass
from pathlib import Path

from multiview.config import ListOf, knob
from multiview.experiment import NetworkConfig
from multiview.mechanism import CHANNELS, channel_phases, mechanism_repeat, write_tables
from multiview.seeding import PERMUTE, derive
from multiview.sim import Sim


@dataclass(frozen=True)
class ChannelsConfig(NetworkConfig):
    variants: str = knob(",".join(CHANNELS), ListOf(CHANNELS), "the student variants to train")


def one_repeat(cfg: ChannelsConfig, r: int, device: str, quiet: bool):
    names = cfg.variants.split(",")
    batch = (lambda teachers, train: channel_phases(teachers, train, cfg.distill, derive(cfg.seed, r, PERMUTE), names),
             cfg.distill)
    return mechanism_repeat(cfg, r, device, quiet, [batch])


def report(tables, cfg: ChannelsConfig, out: Path) -> str:
    return write_tables(tables, out, "channels", ["single", "kd", "self_distill", "label_control"]).round(3).to_string()


SIM = Sim("kd_channels", __doc__, ChannelsConfig(), one_repeat, report)


if __name__ == "__main__":
    SIM.main()

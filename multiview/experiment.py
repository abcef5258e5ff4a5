"""One experiment = the data of one repeat and K models trained on it; the configs of the sims that
train networks only.

Seeds (seeding.py): repeat r draws its data from derive(seed, r, DATA) and the init of model group g
from model_seed(seed, r, g), so every number follows from the master seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .config import Int, knob, validate_fields
from .data import DataConfig, Dataset, generate
from .methods import DistillConfig
from .model import ModelConfig, Params, init, logits
from .seeding import DATA, Group, derive, model_seed
from .train import History, TrainConfig, fit


@dataclass(frozen=True)
class ExperimentConfig:
    """Networks trained on one data set: the lottery's config."""
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = knob(0, Int(0, 2**62), "master seed: every random draw follows from it")
    repeats: int = knob(3, Int(1, 10_000), "R: independent repeats (fresh data and seeds)")

    def __post_init__(self):
        validate_fields(self)


@dataclass(frozen=True)
class NetworkConfig(ExperimentConfig):
    """Networks and their distillation: every sim that trains networks only (no baselines)."""
    distill: DistillConfig = field(default_factory=DistillConfig)


def repeat_data(cfg, repeat: int, device="cpu", data: DataConfig | None = None) -> tuple[Dataset, Dataset]:
    """One repeat's (train, test) of cfg.data (or `data`), seeded by derive(seed, repeat, DATA)."""
    train, test = generate(data or cfg.data, derive(cfg.seed, repeat, DATA))
    return train.to(device), test.to(device)


def train_models(cfg: ExperimentConfig, train: Dataset, repeat: int, group: int = Group.TEACHERS, device="cpu",
                 quiet=False, loss_fn=None, desc="single") -> tuple[Params, History]:
    """K = cfg.train.n_models fresh models of group `group`, trained on `train`."""
    seed = model_seed(cfg.seed, repeat, group)
    params = init(cfg.model, cfg.train.n_models, cfg.data.k, train, seed, device)
    return fit(params, train, cfg.train, loss_fn, quiet=quiet, seed=seed, desc=desc)


@torch.no_grad()
def evaluate(params: Params, train: Dataset, test: Dataset):
    return logits(params, train), logits(params, test)

"""One experiment = data of one repeat, K models trained on it, and tidy records of what happened.

Seeds: repeat r draws its data from derive(seed, r, 0) and its model inits from derive(seed, r, 1+g)
for model group g, so every number follows from the master seed.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import torch

from .config import Int, knob, validate_fields
from .data import DataConfig, Dataset, generate
from .measure import accuracies, learned, single_view_accuracy_by_view
from .model import ModelConfig, Params, init, logits, phi
from .seeding import derive
from .train import History, TrainConfig, fit


@dataclass(frozen=True)
class ExperimentConfig:
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    seed: int = knob(0, Int(0, 2**62), "master seed: every random draw follows from it")
    repeats: int = knob(3, Int(1, 10_000), "R: independent repeats (fresh data and seeds)")

    def __post_init__(self):
        validate_fields(self)


def repeat_data(cfg: ExperimentConfig, repeat: int, device="cpu") -> tuple[Dataset, Dataset]:
    train, test = generate(cfg.data, derive(cfg.seed, repeat, 0))
    return train.to(device), test.to(device)


def train_models(cfg: ExperimentConfig, train: Dataset, repeat: int, group: int = 0, device="cpu",
                 quiet=False, loss_fn=None, desc="single") -> tuple[Params, History]:
    """K = cfg.train.n_models fresh models of group `group`, trained on `train`."""
    seed = derive(cfg.seed, repeat, 1 + group)
    params = init(cfg.model, cfg.train.n_models, cfg.data.k, train, seed, device)
    return fit(params, train, cfg.train, loss_fn, quiet=quiet, seed=seed, desc=desc)


def accuracy_rows(F_train, F_test, train, test, **labels) -> list[dict]:
    """results.csv rows for K predictors: one per (model, split). labels: family, data, method, repeat.

    A `model` label that is a list gives each predictor's index; default range(K)."""
    rows = []
    for F, data, is_train in ((F_train, train, True), (F_test, test, False)):
        if F is None:
            continue
        for split, acc in accuracies(F, data, is_train).items():
            models = labels.get("model", list(range(len(acc))))
            for i, a in enumerate(acc.tolist()):
                rows.append({**labels, "model": models[i] if isinstance(models, list) else models,
                             "split": split, "accuracy": a})
    return rows


def view_rows(params: Params, test: Dataset, repeat: int, **labels) -> list[dict]:
    """views.csv rows: Phi, the learned rule and the single-view accuracy of each (model, class, view)."""
    ph = phi(params).cpu()
    learn = learned(ph)
    by_view = single_view_accuracy_by_view(logits(params, test), test, ph.shape[1])
    K, k, _ = ph.shape
    return [{**labels, "repeat": repeat, "model": i, "class": j, "view": l, "phi": ph[i, j, l].item(),
             "learned": int(learn[i, j, l]), "acc_single": by_view[i, j, l].item()}
            for i in range(K) for j in range(k) for l in range(2)]


def history_rows(hist: History, repeat: int) -> pd.DataFrame:
    """Tidy Phi_{j,l}(t): repeat, model, step, class, view, phi (plus loss and train accuracy)."""
    h = hist.stacked()
    T, K, k, _ = h["phi"].shape
    idx = pd.MultiIndex.from_product([range(T), range(K), range(k), range(2)], names=["t", "model", "class", "view"])
    df = pd.DataFrame({"phi": h["phi"].reshape(-1).numpy()}, index=idx).reset_index()
    df["step"] = h["steps"].numpy()[df.t]
    df["loss"] = h["loss"].numpy()[df.t, df.model]
    df["train_acc"] = h["acc"].numpy()[df.t, df.model]
    df.insert(0, "repeat", repeat)
    return df.drop(columns="t")


@torch.no_grad()
def evaluate(params: Params, train: Dataset, test: Dataset):
    return logits(params, train), logits(params, test)

"""The real-data bridge: scikit-learn's handwritten digits (8x8 images, 10 classes, 1797 samples,
shipped with the library, no download) cut into patches, as a Dataset the models take unchanged.

No views are known here (feature_weight has no columns), so results report train and test accuracy
only. Pixels are divided by 16 (to [0, 1]), centred by the training mean image (an all-positive
input would make every filter see the same "ink" direction first) and multiplied by `scale`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import Int, Real, fail, knob, validate_fields
from .data import Dataset
from .seeding import generator

N_DIGITS = 1797


@dataclass(frozen=True)
class DigitsConfig:
    patch: int = knob(4, Int(1, 8), "patch side in pixels")
    stride: int = knob(2, Int(1, 8), "step between patches in pixels")
    n_train: int = knob(1000, Int(10, N_DIGITS - 10), "training images (the rest are the test set)")
    scale: float = knob(1.0, Real(0, 100, lo_open=True), "pixel scale after dividing by 16")
    centre: bool = knob(True, None, "subtract the training images' mean pixel values (signed inputs)")

    def __post_init__(self):
        validate_fields(self)
        if (8 - self.patch) % self.stride:
            fail("stride", self.stride, f"a divisor of 8 - patch = {8 - self.patch} (patches must tile the image)")

    @property
    def k(self) -> int:
        return 10


def patches(images: torch.Tensor, patch: int, stride: int) -> torch.Tensor:
    """(N, 8, 8) -> (N, P, patch * patch), patches in row-major order."""
    cols = images.unfold(1, patch, stride).unfold(2, patch, stride)      # (N, a, b, patch, patch)
    return cols.reshape(len(images), -1, patch * patch)


def generate_digits(cfg: DigitsConfig, seed: int) -> tuple[Dataset, Dataset]:
    """A random train/test split (from seed) of the digits, as patch datasets."""
    from sklearn.datasets import load_digits
    raw = load_digits()
    X = torch.tensor(raw.images, dtype=torch.float32) / 16.0 * cfg.scale
    y = torch.tensor(raw.target, dtype=torch.long)
    perm = torch.randperm(len(y), generator=generator(seed, 0))
    X, y = X[perm], y[perm]
    if cfg.centre:
        X = X - X[: cfg.n_train].mean(0)
    X = patches(X, cfg.patch, cfg.stride)

    return (Dataset.without_views(X[: cfg.n_train], y[: cfg.n_train]),
            Dataset.without_views(X[cfg.n_train:], y[cfg.n_train:]))

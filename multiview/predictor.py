"""The interface the predictor families share (model.Params, baselines.Linearised,
baselines.RandomFeatures), as protocols: what train.fit and the experiments may rely on.

Shapes: K models in one batch; logits (K, N, k); phi (K, k, 2).
"""
from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import torch

from .data import Dataset


@runtime_checkable
class Predictor(Protocol):
    """K independent predictors trained as one batch."""

    class_dims: tuple[int, ...]  # each trained tensor's class axis, in tensors()' order (per-class steps)

    @property
    def K(self) -> int: ...

    def logits(self, data: Dataset) -> torch.Tensor:
        """(K, N, k)."""

    def tensors(self) -> list[torch.Tensor]:
        """The trained tensors."""

    def select(self, idx) -> "Predictor":
        """A subset of the K predictors."""

    def detach(self) -> "Predictor":
        """A copy whose trained tensors are detached clones."""

    @staticmethod
    def cat(parts: Sequence["Predictor"]) -> "Predictor":
        """Several batches as one."""


@runtime_checkable
class HasViews(Protocol):
    """A predictor with the network's filters, so its views can be read: Params and Linearised (and
    literature's hint regressor), not RandomFeatures."""

    def phi(self) -> torch.Tensor:
        """Phi_{j,l} = max_r <w_{j,r}, v_{j,l}>: (K, k, 2)."""

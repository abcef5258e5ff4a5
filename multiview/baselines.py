"""The two classical controls, with the network's interface (logits, tensors, class_dims, ...).

ntk  Linearised network: F(W0) + <grad F(W0), W - W0>, trained in W. For this architecture the
     gradient is closed form, so the linear model's logits are
         F_i(W) = F_i(W0) + sum_{r,p} sReLU'(<w0_{i,r}, x_p>) <w_{i,r} - w0_{i,r}, x_p>,
     i.e. a linear model over the features sum_p sReLU'(<w0_{i,r}, x_p>) x_p. `centred=True` drops
     the constant F(W0) (a large init's random logit offsets would otherwise dominate).
rf   Random features: k-independent filters frozen at a random init, features
         phi_r(X) = sum_p sReLU(<w_r, x_p>), and only a linear readout F_i = sum_r a_{i,r} phi_r(X)
     trained. Width M = number of filters.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import Int, Real, knob, validate_fields
from .data import Dataset
from .model import ModelConfig, Params, init, preactivations, srelu


@dataclass(frozen=True)
class NTKConfig:
    m: int = knob(1, Int(1, 10_000), "filters per class of the linearised network")
    init_std: float = knob(0.1, Real(0, 100, lo_open=True), "std of W0: about varrho, so that sReLU'(<w0, x_p>) is O(1) and the features are not vanishingly small")
    centred: bool = knob(True, None, "drop F(W0) from the linearised logits")

    def __post_init__(self):
        validate_fields(self)


@dataclass(frozen=True)
class RFConfig:
    width: int = knob(20, Int(1, 1_000_000), "M: random filters (shared by all classes); 20 keeps the ensemble off its ceiling (see baseline_width)")
    init_std: float = knob(1.0, Real(0, 100, lo_open=True), "std of the frozen random filters")

    def __post_init__(self):
        validate_fields(self)


def _srelu_grad(z: torch.Tensor, q: int, varrho: float) -> torch.Tensor:
    return (z.clamp(0.0, varrho) / varrho).pow(q - 1)


@dataclass
class Linearised:
    """K linearised networks. params: the trained weights; init: W0 (frozen)."""
    params: Params
    init: Params
    centred: bool = True
    class_dims = (1, 2)

    @property
    def K(self) -> int:
        return self.params.K

    def tensors(self):
        return self.params.tensors()

    def logits(self, data: Dataset) -> torch.Tensor:
        cfg = self.params.cfg
        with torch.no_grad():
            z0 = preactivations(self.init, data)
            grad0 = _srelu_grad(z0, cfg.q, cfg.varrho)
            F0 = None if self.centred else srelu(z0, cfg.q, cfg.varrho).sum(dim=(3, 4))
        F = (grad0 * (preactivations(self.params, data) - z0)).sum(dim=(3, 4))
        return F if F0 is None else F + F0

    def phi(self) -> torch.Tensor:
        return self.params.phi()

    def detach(self) -> "Linearised":
        return Linearised(self.params.detach(), self.init, self.centred)

    def select(self, idx) -> "Linearised":
        return Linearised(self.params.select(idx), self.init.select(idx), self.centred)


def init_ntk(cfg: NTKConfig, net: ModelConfig, K: int, k: int, train: Dataset, seed: int, device="cpu"):
    mcfg = ModelConfig(m=cfg.m, q=net.q, varrho=net.varrho, init_std=cfg.init_std)
    p0 = init(mcfg, K, k, train, seed, device)
    return Linearised(p0.detach(), p0, cfg.centred)


@dataclass
class RandomFeatures:
    """K random-feature models. filters: frozen Params shaped (K, 1, M, D); A: readout (K, k, M)."""
    filters: Params
    A: torch.Tensor
    class_dims = (1,)

    @property
    def K(self) -> int:
        return self.A.shape[0]

    def tensors(self):
        return [self.A]

    def features(self, data: Dataset) -> torch.Tensor:
        """phi_r(X) = sum_p sReLU(<w_r, x_p>): (K, N, M)."""
        cfg = self.filters.cfg
        with torch.no_grad():
            return srelu(preactivations(self.filters, data), cfg.q, cfg.varrho).sum(dim=3)[:, :, 0]

    def logits(self, data: Dataset) -> torch.Tensor:
        return torch.einsum("knm,kcm->knc", self.features(data), self.A)

    def detach(self) -> "RandomFeatures":
        return RandomFeatures(self.filters, self.A.detach().clone())

    def select(self, idx) -> "RandomFeatures":
        return RandomFeatures(self.filters.select(idx), self.A[torch.as_tensor(idx).reshape(-1)])


def init_rf(cfg: RFConfig, net: ModelConfig, K: int, k: int, train: Dataset, seed: int, device="cpu"):
    mcfg = ModelConfig(m=cfg.width, q=net.q, varrho=net.varrho, init_std=cfg.init_std)
    filters = init(mcfg, K, 1, train, seed, device)
    return RandomFeatures(filters, torch.zeros(K, k, cfg.width, device=filters.W.device))

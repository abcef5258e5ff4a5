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

from dataclasses import dataclass, field

import torch

from .activation import srelu, srelu_grad
from .config import Int, Real, knob, validate_fields
from .data import Dataset
from .model import ModelConfig, Params, init, noise_coordinates, preactivations


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


class _LastData:
    """The frozen part of a baseline's forward pass, kept for the last (data, frozen weights) pair:
    full-batch training meets the same data set at every step, so it is computed once per fit."""

    def __init__(self):
        self.key, self.value = None, None

    def get(self, data: Dataset, frozen, compute):
        if self.key is None or self.key[0] is not data or self.key[1] is not frozen:
            with torch.no_grad():
                self.key, self.value = (data, frozen), compute()
        return self.value


@dataclass
class Linearised:
    """K linearised networks. params: the trained weights; init: W0 (frozen)."""
    params: Params
    init: Params
    centred: bool = True
    class_dims = (1, 3)
    _frozen: _LastData = field(default_factory=_LastData, repr=False, compare=False)

    @property
    def K(self) -> int:
        return self.params.K

    def tensors(self):
        return self.params.tensors()

    def features(self, data: Dataset):
        """sReLU'(<w0, x_p>) in C's layout (K, N, P, k, m); the closed-form features
        sum_p sReLU'(<w0, x_p>) x_p (K, N, k, m, D); the logits' constant F(W0) - <grad F(W0), W0>
        (without F(W0) when centred): (K, N, k). Computed once per (data, W0)."""
        def compute():
            cfg = self.init.cfg
            z0 = preactivations(self.init, data)
            grad0 = srelu_grad(z0, cfg.q, cfg.varrho)
            feats = torch.einsum("bnkpm,npd->bnkmd", grad0, data.X)
            grad0 = grad0.transpose(2, 3).contiguous()
            const = -self._linear(grad0, feats, self.init, data)
            if not self.centred:
                const += srelu(z0, cfg.q, cfg.varrho).sum(dim=(3, 4))
            return grad0, feats, const
        return self._frozen.get(data, self.init, compute)

    @staticmethod
    def _linear(grad0, feats, params: Params, data: Dataset) -> torch.Tensor:
        """<grad F(W0), (W, C)>: sum_{r,p} sReLU'(<w0_r, x_p>) <w_r, x_p>. A training patch's noise
        coordinate adds s C; fresh test noise meets only the init, whose part the constant cancels."""
        F = torch.einsum("bnkmd,bkmd->bnk", feats, params.W)
        if params.C is not None and data.noise_rows is not None:
            C = noise_coordinates(params.C, data.noise_rows)
            F = F + data.noise_norm * torch.mul(grad0, C).sum(2).sum(-1)
        return F

    def logits(self, data: Dataset) -> torch.Tensor:
        """F(W0) + sum_{r,p} sReLU'(<w0_r, x_p>) <w_r - w0_r, x_p>, as <grad F(W0), W> + a constant."""
        grad0, feats, const = self.features(data)
        return self._linear(grad0, feats, self.params, data) + const

    def phi(self) -> torch.Tensor:
        return self.params.phi()

    def detach(self) -> "Linearised":
        return Linearised(self.params.detach(), self.init, self.centred)

    def select(self, idx) -> "Linearised":
        return Linearised(self.params.select(idx), self.init.select(idx), self.centred)

    @staticmethod
    def cat(parts: list["Linearised"]) -> "Linearised":
        return Linearised(Params.cat([p.params for p in parts]), Params.cat([p.init for p in parts]),
                          parts[0].centred)


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
    _frozen: _LastData = field(default_factory=_LastData, repr=False, compare=False)

    @property
    def K(self) -> int:
        return self.A.shape[0]

    def tensors(self):
        return [self.A]

    def features(self, data: Dataset) -> torch.Tensor:
        """phi_r(X) = sum_p sReLU(<w_r, x_p>): (K, N, M)."""
        cfg = self.filters.cfg
        return self._frozen.get(data, self.filters, lambda: srelu(
            preactivations(self.filters, data), cfg.q, cfg.varrho).sum(dim=3)[:, :, 0])

    def logits(self, data: Dataset) -> torch.Tensor:
        return torch.einsum("knm,kcm->knc", self.features(data), self.A)

    def detach(self) -> "RandomFeatures":
        return RandomFeatures(self.filters, self.A.detach().clone())

    def select(self, idx) -> "RandomFeatures":
        return RandomFeatures(self.filters.select(idx), self.A[torch.as_tensor(idx).reshape(-1)])

    @staticmethod
    def cat(parts: list["RandomFeatures"]) -> "RandomFeatures":
        return RandomFeatures(Params.cat([p.filters for p in parts]), torch.cat([p.A for p in parts]))


def init_rf(cfg: RFConfig, net: ModelConfig, K: int, k: int, train: Dataset, seed: int, device="cpu"):
    mcfg = ModelConfig(m=cfg.width, q=net.q, varrho=net.varrho, init_std=cfg.init_std)
    filters = init(mcfg, K, 1, train, seed, device)
    return RandomFeatures(filters, torch.zeros(K, k, cfg.width, device=filters.W.device))

"""The learner: F_i(X) = sum_r sum_p sReLU(<w_{i,r}, x_p>), K independent seeds as one tensor.

Parameters of K models: W (K, k, m, D) and, in the d -> infinity limit, C (K, N_train, P, k, m):
the weights' coordinates along each training patch's (unit) noise direction. A patch's
pre-activation is <w, x_p> = <W, X_p> + s * C[n, p]; fresh (test) noise directions only ever meet
the initial weights, so there it is s * N(0, init_std^2).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .config import Int, Real, knob, validate_fields
from .data import Dataset
from .seeding import derive, generator


@dataclass(frozen=True)
class ModelConfig:
    m: int = knob(8, Int(1, 10_000), "filters per class")
    q: int = knob(4, Int(3, 20), "smoothed-ReLU power (the theory needs q >= 3)")
    varrho: float = knob(0.1, Real(0, 100, lo_open=True), "smoothed-ReLU threshold")
    init_std: float = knob(5e-4, Real(0, 100, lo_open=True), "sigma0: std of the Gaussian init")

    def __post_init__(self):
        validate_fields(self)


def srelu(z: torch.Tensor, q: int, varrho: float) -> torch.Tensor:
    """0 for z <= 0; z^q / (q varrho^(q-1)) on [0, varrho]; z - (1 - 1/q) varrho above.

    Written as clamp(z, 0, varrho)^q / (q varrho^(q-1)) + relu(z - varrho): C^1 everywhere, and
    autograd gives the exact derivative (z/varrho)^(q-1) on [0, varrho], 1 above, 0 below.
    """
    t = z.clamp(0.0, varrho)
    return t.pow(q) / (q * varrho ** (q - 1)) + (z - varrho).clamp(min=0.0)


class _PooledSReLU(torch.autograd.Function):
    """sum over patches and filters of sReLU(z), z: (K, N, P, k, m) -> (K, N, k).

    Fused: the forward keeps only sReLU'(z) = (clamp(z, 0, varrho)/varrho)^(q-1) for the backward
    (exact on every piece: 0 below 0, 1 above varrho), so no intermediate of the piecewise formula
    is stored. About 3x faster than autograd through `srelu` on the default config.
    """

    @staticmethod
    def forward(ctx, z, q: int, varrho: float):
        t = z.clamp(0.0, varrho)
        deriv = t.pow(q - 1)
        out = (deriv * t).sum(dim=(2, 4)) / (q * varrho ** (q - 1))
        out += (z - varrho).clamp_(min=0.0).sum(dim=(2, 4))
        ctx.save_for_backward(deriv.mul_(varrho ** (1 - q)))
        return out

    @staticmethod
    def backward(ctx, dF):
        (deriv,) = ctx.saved_tensors
        return deriv * dF[:, :, None, :, None], None, None


def pooled_srelu(z: torch.Tensor, q: int, varrho: float) -> torch.Tensor:
    """sum_{p, r} sReLU(z) for z (K, N, P, k, m): the logits (K, N, k)."""
    return _PooledSReLU.apply(z, q, varrho)


@dataclass
class Params:
    """K models. W: (K, k, m, D); C: (K, N_train, P, k, m) in the limit, else None."""
    W: torch.Tensor
    C: torch.Tensor | None
    cfg: ModelConfig
    seed: int

    @property
    def K(self) -> int:
        return self.W.shape[0]

    def tensors(self) -> list[torch.Tensor]:
        """The trained tensors; `class_dims` gives each one's class axis (for per-class steps)."""
        return [self.W] if self.C is None else [self.W, self.C]

    class_dims = (1, 3)

    def logits(self, data: Dataset) -> torch.Tensor:
        return logits(self, data)

    def phi(self) -> torch.Tensor:
        return phi(self)

    def select(self, idx) -> "Params":
        """A subset of the K models (a view; no copy)."""
        idx = torch.as_tensor(idx).reshape(-1)
        return Params(self.W[idx], None if self.C is None else self.C[idx], self.cfg, self.seed)

    def detach(self) -> "Params":
        return Params(self.W.detach().clone(), None if self.C is None else self.C.detach().clone(),
                      self.cfg, self.seed)


def init(cfg: ModelConfig, K: int, k: int, train: Dataset, seed: int, device="cpu") -> Params:
    """Gaussian init N(0, init_std^2) of K models for data shaped like `train`."""
    gen = generator(seed)
    N, P, D = train.X.shape
    W = torch.randn(K, k, cfg.m, D, generator=gen) * cfg.init_std
    C = None
    if train.noise_rows is not None:
        C = torch.randn(K, N, P, k, cfg.m, generator=gen) * cfg.init_std
    return Params(W.to(device), None if C is None else C.to(device), cfg, seed)


def preactivations(params: Params, data: Dataset) -> torch.Tensor:
    """<w_{i,r}, x_p> for every model, sample, patch and filter: (K, N, P, k, m)."""
    K, k, m, D = params.W.shape
    N, P, _ = data.X.shape
    z = (data.X.reshape(1, N * P, D) @ params.W.reshape(K, k * m, D).transpose(1, 2))
    z = z.reshape(K, N, P, k, m)
    if params.C is not None:
        rows = data.noise_rows
        if rows is not None:
            full = len(rows) == params.C.shape[1] and torch.equal(rows, torch.arange(len(rows), device=rows.device))
            z = torch.add(z, params.C if full else params.C[:, rows], alpha=data.noise_norm)
        else:  # fresh noise directions: only the init's component, drawn reproducibly
            gen = generator(derive(params.seed, N, P))
            fresh = torch.randn(K, N, P, k, m, generator=gen).to(z.device)
            z = z + data.noise_norm * params.cfg.init_std * fresh
    return z


def logits(params: Params, data: Dataset) -> torch.Tensor:
    """F(X) for the K models: (K, N, k)."""
    cfg = params.cfg
    return pooled_srelu(preactivations(params, data), cfg.q, cfg.varrho)


def feature_weights(params: Params) -> torch.Tensor:
    """<w_{i,r}, v_f> for every filter and feature: (K, k, m, F). Features are the first F axes."""
    F = 2 * params.W.shape[1]
    return params.W[..., :F]


def phi(params: Params) -> torch.Tensor:
    """Phi_{j,l} = max_r <w_{j,r}, v_{j,l}>: (K, k, 2)."""
    K, k = params.W.shape[:2]
    fw = feature_weights(params).reshape(K, k, -1, k, 2)
    own = fw[:, torch.arange(k), :, torch.arange(k), :]  # (k, K, m, 2) by advanced indexing
    return own.permute(1, 0, 2, 3).amax(dim=2)

"""The learner: F_i(X) = sum_r sum_p sReLU(<w_{i,r}, x_p>), K independent seeds as one tensor.

Parameters of K models: W (K, k, m, D) and, in the d -> infinity limit, C (K, N_train, P, k, m):
the weights' coordinates along each training patch's (unit) noise direction. A patch's
pre-activation is <w, x_p> = <W, X_p> + s * C[n, p]; fresh (test) noise directions only ever meet
the initial weights, so there it is s * N(0, init_std^2).

`logits` runs a cache-blocked autograd kernel (multiview/_kernel.py, for speed); `reference_logits`
is the same F written plainly, and the tests hold the two against each other.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ._kernel import network_logits
from .activation import srelu  # also imported from here (literature.py, tests)
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

    @staticmethod
    def cat(parts: list["Params"]) -> "Params":
        """Models of several groups as one batch (the first group's seed draws fresh test noise)."""
        C = None if parts[0].C is None else torch.cat([p.C for p in parts])
        return Params(torch.cat([p.W for p in parts]), C, parts[0].cfg, parts[0].seed)


def init(cfg: ModelConfig, K: int, k: int, train: Dataset, seed: int, device="cpu") -> Params:
    """Gaussian init N(0, init_std^2) of K models for data shaped like `train`."""
    gen = generator(seed)
    N, P, D = train.X.shape
    W = torch.randn(K, k, cfg.m, D, generator=gen) * cfg.init_std
    C = None
    if train.noise_rows is not None:
        C = torch.randn(K, N, P, k, cfg.m, generator=gen) * cfg.init_std
    return Params(W.to(device), None if C is None else C.to(device), cfg, seed)


def noise(params: Params, data: Dataset) -> tuple[torch.Tensor | None, float]:
    """(C, s): the noise coordinates each patch of `data` meets, and their scale. Training rows meet
    the trained C; fresh noise directions (test data) meet only the init's component, drawn
    reproducibly from the models' seed."""
    if params.C is None:
        return None, 0.0
    if data.noise_rows is not None:
        return noise_coordinates(params.C, data.noise_rows), data.noise_norm
    K, k, m, _ = params.W.shape
    N, P, _ = data.X.shape
    fresh = torch.randn(K, N, P, k, m, generator=generator(derive(params.seed, N, P)))
    return fresh.to(data.X.device), data.noise_norm * params.cfg.init_std


def noise_coordinates(C: torch.Tensor, rows: torch.Tensor) -> torch.Tensor:
    """C[:, rows], without the copy (and its costly backward) when rows is the whole training set."""
    full = len(rows) == C.shape[1] and torch.equal(rows, torch.arange(len(rows), device=rows.device))
    return C if full else C[:, rows]


def preactivations(params: Params, data: Dataset) -> torch.Tensor:
    """<w_{i,r}, x_p> for every model, sample, class, patch and filter: (K, N, k, P, m), contiguous.
    Materialised whole and differentiable: for the baselines' frozen features and for tests."""
    K, k, m, D = params.W.shape
    N, P, _ = data.X.shape
    xw = (data.X.reshape(N * P, D) @ params.W.reshape(K * k * m, D).T).reshape(N, P, K, k, m)
    xw = xw.permute(2, 0, 3, 1, 4)
    C, s = noise(params, data)
    return xw.contiguous() if C is None else (C.mul(s).permute(0, 1, 3, 2, 4) + xw).contiguous()


def logits(params: Params, data: Dataset) -> torch.Tensor:
    """F(X) for the K models: (K, N, k), by the cache-blocked kernel (multiview/_kernel.py)."""
    C, s = noise(params, data)
    return network_logits(data.X, params.W, C, s, params.cfg.q, params.cfg.varrho)


def reference_logits(params: Params, data: Dataset) -> torch.Tensor:
    """F(X) = sum_{p, r} sReLU(<w_{i,r}, x_p>) in plain torch: (K, N, k). What `logits` computes,
    for reading and testing the kernel against (it materialises all K N k P m pre-activations)."""
    return srelu(preactivations(params, data), params.cfg.q, params.cfg.varrho).sum(dim=(3, 4))


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

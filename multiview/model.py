"""The learner: F_i(X) = sum_r sum_p sReLU(<w_{i,r}, x_p>), K independent seeds as one tensor.

Parameters of K models: W (K, k, m, D) and, in the d -> infinity limit, C (K, N_train, k, P, m):
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
    """sum over patches and filters of sReLU(z), z: (K, N, k, L = P m) contiguous -> (K, N, k).

    Fused, five passes over z: t = clamp(z, 0, varrho); t^(q-1) (kept for the backward: sReLU'(z) =
    (t/varrho)^(q-1), exact on every piece); sum t^(q-1) t as a batched dot product; the linear
    part as sum clamp(z, min=varrho) - L varrho. The constant varrho^(1-q) is applied to the small
    (K, N, k) gradient instead of to z. Several times faster than autograd through `srelu`.
    """

    @staticmethod
    def forward(ctx, z, q: int, varrho: float):
        t = z.clamp(0.0, varrho)
        power = t.pow(q - 1)
        out = torch.einsum("...i,...i->...", power, t).div_(q * varrho ** (q - 1))
        out += z.clamp(min=varrho).sum(-1) - z.shape[-1] * varrho
        ctx.save_for_backward(power)
        ctx.scale = varrho ** (1 - q)
        return out

    @staticmethod
    def backward(ctx, dF):
        (power,) = ctx.saved_tensors
        return power * (dF * ctx.scale)[..., None], None, None


def pooled_srelu(z: torch.Tensor, q: int, varrho: float) -> torch.Tensor:
    """sum_{p, r} sReLU(z) for z (K, N, k, P, m): the logits (K, N, k)."""
    K, N, k, P, m = z.shape
    return _PooledSReLU.apply(z.reshape(K, N, k, P * m), q, varrho)


@dataclass
class Params:
    """K models. W: (K, k, m, D); C: (K, N_train, k, P, m) in the limit, else None."""
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

    class_dims = (1, 2)

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
        C = _patch_major(torch.randn(K, N, P, k, cfg.m, generator=gen)) * cfg.init_std
    return Params(W.to(device), None if C is None else C.to(device), cfg, seed)


def _patch_major(t: torch.Tensor) -> torch.Tensor:
    """(K, N, P, k, m) -> contiguous (K, N, k, P, m): each (model, sample, class)'s P m pre-activations
    adjacent, so the pooling sums run over contiguous memory. Random draws keep the (K, N, P, k, m)
    order, so the values do not depend on the layout."""
    return t.permute(0, 1, 3, 2, 4).contiguous()


def preactivations(params: Params, data: Dataset) -> torch.Tensor:
    """<w_{i,r}, x_p> for every model, sample, class, patch and filter: (K, N, k, P, m), contiguous.

    One GEMM for all K models: (N P, D) @ (D, K k m), as the machine's matmul is fastest when wide."""
    K, k, m, D = params.W.shape
    N, P, _ = data.X.shape
    xw = (data.X.reshape(N * P, D) @ params.W.reshape(K * k * m, D).T).reshape(N, P, K, k, m)
    xw = xw.permute(2, 0, 3, 1, 4)
    if params.C is None:
        return xw.contiguous()
    rows = data.noise_rows
    if rows is not None:
        full = len(rows) == params.C.shape[1] and torch.equal(rows, torch.arange(len(rows), device=rows.device))
        noise, scale = (params.C if full else params.C[:, rows]), data.noise_norm
    else:  # fresh noise directions: only the init's component, drawn reproducibly
        gen = generator(derive(params.seed, N, P))
        noise = _patch_major(torch.randn(K, N, P, k, m, generator=gen)).to(xw.device)
        scale = data.noise_norm * params.cfg.init_std
    return torch.add(noise.mul(scale), xw)  # first operand contiguous: so is the result


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

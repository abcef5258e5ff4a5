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


CHUNK_ELEMENTS = 1 << 19  # pre-activations per block of samples: 2 MB of float32, about a core's L2 cache
RECOMPUTE_MAX_D = 256     # inputs up to this width recompute the pre-activations in the backward


class _NetworkLogits(torch.autograd.Function):
    """F = sum_{p, r} sReLU(<W, X_p> + s C_p) for K models, computed in blocks of samples.

    The pre-activations z are the program's big tensor. With narrow inputs (the d -> inf limit,
    D = 2k) their elementwise passes are memory-bound, so z is never materialised whole: each block
    of samples makes its z with one GEMM, in the GEMM's own layout (n, P, K, k, m), into a buffer
    that stays in cache; pools it; and the backward recomputes it (one cheap GEMM). With wide inputs
    (finite d) the GEMMs dominate, so the forward keeps the gates sReLU'(z) for the backward instead.
    sReLU with t = clamp(z, 0, varrho): t^q / (q varrho^(q-1)) + clamp(z, min=varrho) - varrho;
    sReLU'(z) = (t / varrho)^(q-1), exact on every piece. C: (K, N, P, k, m) noise coordinates
    (trained, or fresh test noise) or None.
    """

    @staticmethod
    def forward(ctx, X, W, C, s: float, q: int, varrho: float):
        K, k, m, D = W.shape
        N, P, _ = X.shape
        n = min(N, max(1, CHUNK_ELEMENTS // (K * k * P * m)))
        Wt = W.reshape(K * k * m, D).T
        F = X.new_empty(N, K * k)
        keep = D > RECOMPUTE_MAX_D and any(ctx.needs_input_grad)
        z, t = X.new_empty(n, P, K, k, m), X.new_empty(n, P, K, k, m)  # reused: no page faults per block
        gates = X.new_empty(N, P, K, k, m) if keep else None
        u = None if keep else X.new_empty(n, P, K, k, m)
        for a in range(0, N, n):
            b = min(a + n, N)
            zc, tc = _preactivate(X[a:b], Wt, C, a, s, z[: b - a]), t[: b - a]
            torch.clamp(zc, 0.0, varrho, out=tc)
            gate = torch.pow(tc, q - 1, out=gates[a:b] if keep else u[: b - a])     # t^(q-1)
            zc.clamp_(min=varrho).addcmul_(gate, tc, value=1 / (q * varrho ** (q - 1)))
            F[a:b] = zc.view(b - a, P, K * k * m).sum(1).view(b - a, K * k, m).sum(-1)
        ctx.save_for_backward(X, W, C, gates)
        ctx.args = (s, q, varrho, n)
        return F.sub_(P * m * varrho).T.reshape(K, k, N).transpose(1, 2)

    @staticmethod
    def backward(ctx, dF):
        X, W, C, gates = ctx.saved_tensors
        s, q, varrho, n = ctx.args
        K, k, m, D = W.shape
        N, P, _ = X.shape
        Wt = W.reshape(K * k * m, D).T
        dWt = X.new_zeros(D, K * k * m)
        dC = torch.empty_like(C) if C is not None and ctx.needs_input_grad[2] else None
        z = X.new_empty(n, P, K, k, m)
        dz_scale = (dF * varrho ** (1 - q)).permute(1, 0, 2)[:, None, :, :, None]  # (N, 1, K, k, 1)
        for a in range(0, N, n):
            b = min(a + n, N)
            if gates is not None:
                dz = torch.mul(gates[a:b], dz_scale[a:b], out=z[: b - a])
            else:
                dz = _preactivate(X[a:b], Wt, C, a, s, z[: b - a])
                dz.clamp_(0.0, varrho).pow_(q - 1).mul_(dz_scale[a:b])
            if dC is not None:
                torch.mul(dz, s, out=dC[:, a:b].permute(1, 2, 0, 3, 4))
            dWt.addmm_(X[a:b].reshape(-1, D).T, dz.view(-1, K * k * m))
        return None, dWt.T.reshape(K, k, m, D), dC, None, None, None


def _preactivate(Xc, Wt, C, a: int, s: float, out):
    """Block of pre-activations <W, X_p> + s C_p for samples a.. into `out` (n, P, K, k, m)."""
    n, P, D = Xc.shape
    torch.mm(Xc.reshape(n * P, D), Wt, out=out.view(n * P, -1))
    if C is not None:
        out.add_(C[:, a:a + n].permute(1, 2, 0, 3, 4), alpha=s)
    return out


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
    """F(X) for the K models: (K, N, k)."""
    C, s = noise(params, data)
    return _NetworkLogits.apply(data.X, params.W, C, s, params.cfg.q, params.cfg.varrho)


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

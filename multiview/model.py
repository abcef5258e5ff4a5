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
    of samples makes its z with one (batched) GEMM into a buffer that stays in cache, pools it, and
    the backward recomputes it (one cheap GEMM). With wide inputs (finite d) the GEMMs dominate, so
    the forward keeps the gates sReLU'(z) for the backward instead.

    Block layout (G, n, P, L): without C, one GEMM for all models, G = 1 and L = K k m (the GEMM's
    own output layout); with C (K, N, P, k, m), one GEMM per model, G = K and L = k m, so a block of
    C is K contiguous runs added to the GEMM's output, and its gradient is made in place as K runs.
    sReLU with t = clamp(z, 0, varrho): t^q / (q varrho^(q-1)) + clamp(z, min=varrho) - varrho;
    sReLU'(z) = (t / varrho)^(q-1), exact on every piece. C: noise coordinates (trained, or fresh
    test noise) or None.
    """

    @staticmethod
    def forward(ctx, X, W, C, s: float, q: int, varrho: float):
        K, k, m, D = W.shape
        N, P, _ = X.shape
        G, L = (1, K * k * m) if C is None else (K, k * m)
        n = min(N, max(1, CHUNK_ELEMENTS // (K * k * P * m)))
        Wb = W.reshape(G, L, D).transpose(1, 2)
        F = X.new_empty(G, N, L // m)
        keep = D > RECOMPUTE_MAX_D and any(ctx.needs_input_grad)
        z, t = X.new_empty(G * n * P * L), X.new_empty(G * n * P * L)  # reused: no page faults per block
        gates = X.new_empty(G, N, P, L) if keep else None
        c = 1 / (q * varrho ** (q - 1))
        for a in range(0, N, n):
            b = min(a + n, N)
            zc = _preactivate(X, Wb, C, a, b, s, z[: G * (b - a) * P * L])
            tc = torch.clamp(zc, 0.0, varrho, out=t[: zc.numel()].view(zc.shape))
            if keep:  # the backward's gates t^(q-1), then t^q from them
                zc.clamp_(min=varrho).addcmul_(torch.pow(tc, q - 1, out=gates[:, a:b]), tc, value=c)
                pooled = zc.sum(2)
            else:     # no gates: pool t^q and clamp(z, min=varrho) separately, no third buffer
                pooled = zc.clamp_(min=varrho).sum(2).add_(_pow_(tc, q).sum(2), alpha=c)
            F[:, a:b] = pooled.view(G, b - a, -1, m).sum(-1)
        ctx.save_for_backward(X, W, C, gates)
        ctx.args = (s, q, varrho, n)
        F.sub_(P * m * varrho)
        return F[0].T.reshape(K, k, N).transpose(1, 2) if C is None else F

    @staticmethod
    def backward(ctx, dF):
        X, W, C, gates = ctx.saved_tensors
        s, q, varrho, n = ctx.args
        K, k, m, D = W.shape
        N, P, _ = X.shape
        G, L = (1, K * k * m) if C is None else (K, k * m)
        Wb = W.reshape(G, L, D).transpose(1, 2)
        dWb = X.new_zeros(G, D, L)
        dC = _grad_buffer(C) if C is not None and ctx.needs_input_grad[2] else None
        z = X.new_empty(G * n * P * L)
        # dF / varrho^(q-1) spread over the filters, (G, N, 1, L): the products below run contiguous
        g = dF.permute(1, 0, 2)[None] if C is None else dF
        dz_scale = (g * varrho ** (1 - q))[..., None].expand(*g.shape, m).reshape(G, N, 1, L)
        for a in range(0, N, n):
            b = min(a + n, N)
            # dz = sReLU'(z) dF, made in place: in the gradient of C itself when there is one
            out = z[: G * (b - a) * P * L] if dC is None else dC[:, a:b]
            if gates is not None:
                dz = torch.mul(gates[:, a:b], dz_scale[:, a:b], out=out.view(G, b - a, P, L))
            else:
                dz = _preactivate(X, Wb, C, a, b, s, out)
                dz.clamp_(0.0, varrho).pow_(q - 1).mul_(dz_scale[:, a:b])
            dWb.baddbmm_(X[a:b].reshape(1, -1, D).transpose(1, 2).expand(G, D, -1), dz.view(G, -1, L))
        if dC is not None and s != 1:
            dC.mul_(s)
        return None, dWb.transpose(1, 2).reshape(K, k, m, D), dC, None, None, None


_SPARE: dict = {}  # gradient buffers handed back by the training loop, by (shape, dtype, device)


def release_grads(tensors) -> None:
    """Drop the tensors' gradients, keeping their buffers for the next backward to write C's gradient
    into: a fresh buffer above glibc's mmap threshold (32 MB) is a new mapping, page-faulted in again
    at every step. Only for gradients nothing else holds (the training loop's own copy)."""
    for t in tensors:
        if t.grad is not None:
            _SPARE[(t.grad.shape, t.grad.dtype, t.grad.device)] = t.grad
            t.grad = None


def clear_spare_grads() -> None:
    _SPARE.clear()


def _grad_buffer(C: torch.Tensor) -> torch.Tensor:
    buf = _SPARE.pop((C.shape, C.dtype, C.device), None)
    return buf if buf is not None and buf.is_contiguous() else torch.empty_like(C, memory_format=torch.contiguous_format)


def _pow_(t: torch.Tensor, q: int) -> torch.Tensor:
    """t^q in place. torch's pow has fast kernels for the exponents 2 and 3 only (t^4 by the
    general pow is 10x slower than squaring twice)."""
    return t.pow_(q // 2).square_() if q % 2 == 0 and q > 2 else t.pow_(q)


def _preactivate(X, Wb, C, a: int, b: int, s: float, out):
    """Pre-activations <W, X_p> + s C_p of samples a..b as (G, b - a, P, L), written into `out`."""
    N, P, D = X.shape
    G, _, L = Wb.shape
    out = out.view(G, (b - a) * P, L)
    Xc = X[a:b].reshape(1, -1, D).expand(G, -1, D)
    torch.bmm(Xc, Wb, out=out)
    if C is not None:
        out.add_(C[:, a:b].reshape(G, -1, L), alpha=s)
    return out.view(G, b - a, P, L)


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

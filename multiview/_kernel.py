"""The network's logits as a cache-blocked autograd kernel: F = sum_{p, r} sReLU(<W, X_p> + s C_p).

Why: the pre-activations z (K, N, P, k, m) are the program's big tensor. With narrow inputs (the
d -> inf limit, D = 2k) their elementwise passes are memory-bound, so z is never materialised whole:
each block of samples makes its z with one (batched) GEMM into a buffer that stays in cache, pools
it, and the backward recomputes it (one cheap GEMM). With wide inputs (finite d, D > RECOMPUTE_MAX_D)
the GEMMs dominate, so the forward keeps the gates sReLU'(z) for the backward instead.
`model.reference_logits` is the same F in plain torch, to read this against.

Shapes: X (N, P, D); W (K, k, m, D); C (K, N, P, k, m) -- noise coordinates (trained, or fresh
test noise) -- or None; s the noise scale; F (K, N, k).

Block layout (G, n, P, L), n samples per block: without C, one GEMM for all models, G = 1 and
L = K k m (the GEMM's own output layout); with C, one GEMM per model, G = K and L = k m, so a block
of C is K contiguous runs added to the GEMM's output, and its gradient is made in place as K runs.
sReLU with t = clamp(z, 0, varrho): t^q / (q varrho^(q-1)) + clamp(z, min=varrho) - varrho;
sReLU'(z) = (t / varrho)^(q-1), exact on every piece.

torch.func: the backward under a transform (jacrev runs it under vmap) takes an unblocked,
out-of-place path; vmap of the forward runs the kernel once per batch element. Untransformed calls
run only the blocked arithmetic. No forward mode (jvp, jacfwd): there is no jvp rule.
"""
from __future__ import annotations

import torch
from torch._C._functorch import is_functorch_wrapped_tensor

from .activation import srelu_grad

CHUNK_ELEMENTS = 1 << 19  # pre-activations per block of samples: 2 MB of float32, about a core's L2 cache
RECOMPUTE_MAX_D = 256     # inputs up to this width recompute the pre-activations in the backward


def network_logits(X, W, C, s: float, q: int, varrho: float) -> torch.Tensor:
    """F (K, N, k) for X (N, P, D), W (K, k, m, D), C (K, N, P, k, m) or None."""
    tensors = (X, W) if C is None else (X, W, C)
    # wide inputs keep the gates whenever an input requires grad, under no_grad too (autograd's
    # needs_input_grad, which the kernel used to read, ignores the grad mode): the same arithmetic
    keep = X.shape[-1] > RECOMPUTE_MAX_D and any(t.requires_grad for t in tensors)
    return _NetworkLogits.apply(X, W, C, s, q, varrho, keep)[0]


def _rows_per_block(X, W) -> int:
    K, k, m, _ = W.shape
    N, P, _ = X.shape
    return min(N, max(1, CHUNK_ELEMENTS // (K * k * P * m)))


class _NetworkLogits(torch.autograd.Function):
    """(F, gates): the logits and, when `keep`, the gates sReLU'(z) varrho^(q-1) (G, N, P, L) for the
    backward (else an empty tensor); gates are not differentiable."""

    @staticmethod
    def forward(X, W, C, s: float, q: int, varrho: float, keep: bool):
        K, k, m, D = W.shape
        N, P, _ = X.shape
        G, L = (1, K * k * m) if C is None else (K, k * m)
        n = _rows_per_block(X, W)
        Wb = W.reshape(G, L, D).transpose(1, 2)
        F = X.new_empty(G, N, L // m)
        z, t = X.new_empty(G * n * P * L), X.new_empty(G * n * P * L)  # reused: no page faults per block
        gates = X.new_empty(G, N, P, L) if keep else X.new_empty(0)
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
        F.sub_(P * m * varrho)
        return (F[0].T.reshape(K, k, N).transpose(1, 2) if C is None else F), gates

    @staticmethod
    def setup_context(ctx, inputs, output):
        X, W, C, s, q, varrho, keep = inputs
        gates = output[1]
        ctx.mark_non_differentiable(gates)
        ctx.set_materialize_grads(False)  # no zeros made for the gates' (absent) gradient
        ctx.save_for_backward(X, W, C, gates if keep else None)
        ctx.args = (s, q, varrho, _rows_per_block(X, W))

    @staticmethod
    def backward(ctx, dF, _):
        if dF is None:  # F's gradient undefined (not materialised): zero, as None
            return (None,) * 7
        X, W, C, gates = ctx.saved_tensors
        s, q, varrho, n = ctx.args
        want_C = C is not None and ctx.needs_input_grad[2]
        if any(is_functorch_wrapped_tensor(t) for t in (dF, X, W, C) if t is not None):
            dW, dC = _plain_backward(dF, X, W, C, s, q, varrho, want_C)
        else:
            dW, dC = _blocked_backward(dF, X, W, C, gates, s, q, varrho, n, want_C)
        return None, dW, dC, None, None, None, None

    @staticmethod
    def vmap(info, in_dims, X, W, C, s, q, varrho, keep):
        """The kernel once per batch element: each element's arithmetic is that of an unbatched call."""
        def pick(b):
            return [t if d is None else t.select(d, b) for t, d in zip((X, W, C), in_dims)]
        outs = [_NetworkLogits.apply(*pick(b), s, q, varrho, keep) for b in range(info.batch_size)]
        return tuple(torch.stack(o) for o in zip(*outs)), (0, 0)


def _blocked_backward(dF, X, W, C, gates, s, q, varrho, n, want_C):
    """(dW, dC) block by block, into reused buffers; dC is None unless want_C."""
    K, k, m, D = W.shape
    N, P, _ = X.shape
    G, L = (1, K * k * m) if C is None else (K, k * m)
    Wb = W.reshape(G, L, D).transpose(1, 2)
    dWb = X.new_zeros(G, D, L)
    dC = _grad_buffer(C) if want_C else None
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
    return dWb.transpose(1, 2).reshape(K, k, m, D), dC


def _plain_backward(dF, X, W, C, s, q, varrho, want_C):
    """(dW, dC) unblocked and out of place, for calls under torch.func transforms: jacrev runs the
    backward under vmap, where out= and in-place writes of batched values into plain buffers fail."""
    z = torch.einsum("npd,kcmd->knpcm", X, W)
    if C is not None:
        z = z + s * C
    dz = srelu_grad(z, q, varrho) * dF[:, :, None, :, None]   # (K, N, P, k, m): C's layout
    return torch.einsum("knpcm,npd->kcmd", dz, X), dz * s if want_C else None


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

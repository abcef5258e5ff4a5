"""The smoothed ReLU of the theory and its derivative: shared by the data's teacher, the network,
its kernel and the baselines (a module of its own so that none of them imports another for it)."""
from __future__ import annotations

import torch


def srelu(z: torch.Tensor, q: int, varrho: float) -> torch.Tensor:
    """0 for z <= 0; z^q / (q varrho^(q-1)) on [0, varrho]; z - (1 - 1/q) varrho above.

    Written as clamp(z, 0, varrho)^q / (q varrho^(q-1)) + relu(z - varrho): C^1 everywhere, and
    autograd gives the exact derivative (z/varrho)^(q-1) on [0, varrho], 1 above, 0 below.
    """
    t = z.clamp(0.0, varrho)
    return t.pow(q) / (q * varrho ** (q - 1)) + (z - varrho).clamp(min=0.0)


def srelu_grad(z: torch.Tensor, q: int, varrho: float) -> torch.Tensor:
    """sReLU'(z) = (clamp(z, 0, varrho) / varrho)^(q-1), exact on every piece; z's shape."""
    return (z.clamp(0.0, varrho) / varrho).pow(q - 1)

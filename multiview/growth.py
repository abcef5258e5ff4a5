"""Where each view's growth comes from: the gradient on Phi_{j,l}, split by the samples that make it.

Phi_{j,l} = max_r <w_{j,r}, v_{j,l}> grows along -dL/dW[j, r*, f] for its filter r* (f = 2j + l,
the feature's coordinate). That gradient is a sum over samples n and patches p,

    -dL/dW[j, r*, f] = sum_n -dL/dF_j(n) * sum_p sReLU'(<w_{j,r*}, x_{n,p}>) * x_{n,p}[f],

so it splits exactly into the contributions of disjoint groups of samples (GROUPS, for (j, l)):
  own_multi    class-j multi-view samples (both views of j)
  own_same     class-j single-view samples whose strong view is l
  own_other    class-j single-view samples of the other view (they hold v_{j,l} with weight rho)
  dark         samples of other classes that carry v_{j,l} as an off-class feature (dark knowledge)
  rest         samples of other classes without it (they can only push through feature noise)
Times the step's learning rate of (model, class j) this is the growth rate of Phi_{j,l} per step,
so summed over steps it is how much each group grew the view (as fit's probe, `growth_probe`).
"""
from __future__ import annotations

import pandas as pd
import torch

from .data import Dataset
from .model import feature_weights, noise

GROUPS = ("own_multi", "own_same", "own_other", "dark", "rest")


def group_masks(data: Dataset) -> torch.Tensor:
    """(G, N, k, 2) bool: sample n is in group g for the view (j, l). The groups partition the samples."""
    N, F = data.feature_weight.shape
    k = F // 2
    y, single, view = data.y[:, None, None], data.single_view[:, None, None], data.view[:, None, None]
    j = torch.arange(k, device=y.device)[None, :, None]
    l = torch.arange(2, device=y.device)[None, None, :]
    own = y == j
    carries = data.feature_weight.reshape(N, k, 2) > 0
    groups = [own & ~single, own & single & (view == l), own & single & (view != l), ~own & carries, ~own & ~carries]
    return torch.stack([g.expand(N, k, 2) for g in groups])


def view_gradient(params, data: Dataset, dF: torch.Tensor) -> torch.Tensor:
    """Per-sample contributions to -dL/dW[j, r*, 2j + l] on each view's strongest filter r*.

    params: K networks; dF: (K, N, k) gradient of the loss w.r.t. the logits on `data`.
    Returns (K, N, k, 2): summed over n it is minus the gradient of the view's coordinate."""
    K, k, m, D = params.W.shape
    N, P, _ = data.X.shape
    q, varrho = params.cfg.q, params.cfg.varrho
    own = feature_weights(params).reshape(K, k, m, k, 2)[:, torch.arange(k), :, torch.arange(k)]  # (k, K, m, 2)
    best = own.permute(1, 0, 2, 3).argmax(2)                                   # (K, k, 2): r* per view
    W = params.W.gather(2, best[..., None].expand(K, k, 2, D))                 # (K, k, 2, D): the r* filters
    z = torch.einsum("npd,kjld->knjpl", data.X, W)                             # (K, N, k, P, 2)
    C, s = noise(params, data)
    if C is not None:                                                          # C: (K, N, P, k, m)
        Cb = C.gather(4, best[:, None, None].expand(K, N, P, k, 2))            # (K, N, P, k, 2)
        z = z + s * Cb.transpose(2, 3)
    slope = (z.clamp(0.0, varrho) / varrho).pow(q - 1)                         # sReLU'
    x = data.X[..., : 2 * k].reshape(N, P, k, 2).transpose(1, 2)               # (N, k, P, 2): x_p[2j + l]
    return -dF[..., None] * (slope * x).sum(3)


def group_growth(params, data: Dataset, dF: torch.Tensor, rate: torch.Tensor | None = None) -> torch.Tensor:
    """(K, k, 2, G): each group's contribution to the growth of Phi_{j,l} (GROUPS order).

    rate: (K, k) learning rate of each (model, class) block for W, or None (the raw -gradient)."""
    c = view_gradient(params, data, dF)                                        # (K, N, k, 2)
    masks = group_masks(data).to(c.dtype)                                      # (G, N, k, 2)
    out = torch.einsum("knjl,gnjl->kjlg", c, masks)
    return out if rate is None else out * rate[:, :, None, None]


def growth_probe(model, batch: Dataset, dF: torch.Tensor, rates: list) -> torch.Tensor:
    """fit()'s probe: (K, k, 2, G) growth rate per step of each view from each group (rates[0] is W's)."""
    return group_growth(model, batch, dF, rates[0]).cpu()


def growth_rows(steps: list, records: list, log_every: int, **labels) -> pd.DataFrame:
    """Tidy growth records: labels, step, model, class, view, group, rate (per step) and growth
    (rate times the steps until the next record: the record's estimate of Phi's increase there)."""
    if not records:
        return pd.DataFrame()
    g = torch.stack(records)                                                   # (T, K, k, 2, G)
    T, K, k, _, G = g.shape
    idx = pd.MultiIndex.from_product([range(T), range(K), range(k), range(2), GROUPS],
                                     names=["t", "model", "class", "view", "group"])
    df = pd.DataFrame({"rate": g.reshape(-1).numpy()}, index=idx).reset_index()
    df["step"] = torch.tensor(steps).numpy()[df.t]
    df["growth"] = df.rate * log_every
    for key, value in reversed(labels.items()):
        df.insert(0, key, value)
    return df.drop(columns="t")

"""Calibration: expected calibration error, reliability curves, temperature scaling, and the
class-adaptive label smoothing that calibrates each class by its own over-confidence.

ECE (Guo et al. 2017): confidences max_j p_j binned into `bins` equal-width bins on [0, 1];
ECE = sum_b (n_b / N) |accuracy_b - confidence_b|.
"""
from __future__ import annotations

import math

import pandas as pd
import torch
import torch.nn.functional as Fn
from scipy.optimize import minimize_scalar


def reliability(logits: torch.Tensor, y: torch.Tensor, bins: int = 15) -> pd.DataFrame:
    """Per confidence bin: count, mean confidence, accuracy. logits (N, k)."""
    p = torch.softmax(logits.double(), -1)
    conf, pred = p.max(-1)
    b = (conf * bins).long().clamp(max=bins - 1)
    df = pd.DataFrame({"bin": b.cpu().numpy(), "confidence": conf.cpu().numpy(),
                       "correct": (pred == y).double().cpu().numpy()})
    out = df.groupby("bin").agg(count=("correct", "size"), confidence=("confidence", "mean"),
                                accuracy=("correct", "mean")).reset_index()
    out["lower"] = out.bin / bins
    return out


def ece(logits: torch.Tensor, y: torch.Tensor, bins: int = 15) -> float:
    r = reliability(logits, y, bins)
    return float((r["count"] * (r.accuracy - r.confidence).abs()).sum() / r["count"].sum())


def fit_temperature(logits: torch.Tensor, y: torch.Tensor) -> float:
    """The temperature minimising the negative log-likelihood of softmax(logits / T) (held-out data)."""
    F, yy = logits.double().cpu(), y.cpu()

    def nll(log_t):
        return Fn.cross_entropy(F / math.exp(log_t), yy).item()
    return math.exp(minimize_scalar(nll, bounds=(-5.0, 7.0), method="bounded").x)


def class_adaptive_eps(logits: torch.Tensor, y: torch.Tensor, k: int, eps_max: float = 0.5) -> torch.Tensor:
    """Per-class smoothing (k,): class j's over-confidence on held-out data, mean confidence minus
    accuracy over the samples of class j, clipped to [0, eps_max]."""
    p = torch.softmax(logits.double(), -1)
    conf, pred = p.max(-1)
    eps = torch.zeros(k, dtype=torch.float64)
    for j in range(k):
        m = y == j
        if m.any():
            eps[j] = (conf[m].mean() - (pred[m] == j).double().mean()).clamp(0, eps_max)
    return eps.float()


def smoothed_cross_entropy(y: torch.Tensor, eps: torch.Tensor):
    """Cross-entropy against (1 - eps_y) onehot(y) + eps_y / k: label smoothing with a per-class
    epsilon (eps: (k,)). A loss for fit(): logits (K, n, k), idx -> (K,)."""
    def loss(F, idx):
        k = F.shape[-1]
        yy = y[idx]
        e = eps.to(F.device)[yy][:, None]
        target = (1 - e) * Fn.one_hot(yy, k).to(F.dtype) + e / k
        return -(target * Fn.log_softmax(F, -1)).sum(-1).mean(-1)
    return loss


@torch.no_grad()
def calibration_rows(method: str, F_val: torch.Tensor, F_eval: torch.Tensor, val, ev, learn, r: int):
    """Per predictor of F (K, N, k): its temperature fitted on `val`, then on `ev` accuracy, ECE (all and
    single-view samples) before and after scaling, and on single-view samples its mean confidence and
    accuracy where it learned the sample's view and where it did not (learn: (K, k, 2) or None).
    Returns (rows, reliability tables)."""
    rows, rel = [], []
    single = ev.single_view.cpu()
    for i in range(F_eval.shape[0]):
        T = fit_temperature(F_val[i], val.y)
        row = {"method": method, "model": i, "repeat": r, "temperature": T,
               "accuracy": (F_eval[i].argmax(-1) == ev.y).float().mean().item()}
        for tag, F in (("", F_eval[i]), ("_scaled", F_eval[i] / T)):
            row[f"ece{tag}"] = ece(F, ev.y)
            row[f"ece_single{tag}"] = ece(F[single], ev.y[single])
            rel.append(reliability(F, ev.y).assign(method=method, model=i, repeat=r, scaled=bool(tag)))
        if learn is not None:
            conf, pred = torch.softmax(F_eval[i], -1).max(-1)
            has = learn[i][ev.y[single], ev.view[single]]       # did model i learn this sample's view?
            for tag, mask in (("learned", has), ("missing", ~has)):
                row[f"conf_{tag}"] = conf[single][mask].mean().item() if mask.any() else float("nan")
                row[f"acc_{tag}"] = (pred[single] == ev.y[single])[mask].float().mean().item() if mask.any() else float("nan")
        rows.append(row)
    return rows, rel

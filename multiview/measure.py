"""What a model learned: accuracy on each split, the Phi matrix, and the learned-view rule.

Rule for "view learned": Phi_{j,l} = max_r <w_{j,r}, v_{j,l}> >= LEARNED_PHI (0.5). Why 0.5: a class
view occurs with total weight in [1, 2] (2 patches of U[0.5, 1]), so a filter with Phi >= 0.5 gives
its class a logit of about Phi * 1.5 - 2 * (1 - 1/q) varrho >= 0.6 on a single-view sample of that
view, more than the off-class features (weight Gamma = 0.05) give any other class. Unlearned views
stay at the init scale (~1e-3) and learned ones grow to ~4, so the rule is not sensitive to the
exact cut; views.csv also carries each (class, view)'s single-view test accuracy to check it.
"""
from __future__ import annotations

import torch

from .data import Dataset

LEARNED_PHI = 0.5


def correct(F: torch.Tensor, data: Dataset) -> torch.Tensor:
    """(K, N) bool: each model's prediction is right. F: (K, N, k)."""
    return F.argmax(-1) == data.y.to(F.device)


def split_masks(data: Dataset, train: bool) -> dict[str, torch.Tensor]:
    """Sample masks of the splits results.csv reports. Test splits only exist where non-empty."""
    if train:
        return {"train": torch.ones(len(data), dtype=torch.bool)}
    masks = {"test": torch.ones(len(data), dtype=torch.bool)}
    if data.feature_weight.shape[1] > 0:  # multi-view family: split by sample type
        masks["test_multi"] = ~data.single_view
        masks["test_single"] = data.single_view
    return {k: v for k, v in masks.items() if v.any()}


def accuracies(F: torch.Tensor, data: Dataset, train: bool) -> dict[str, torch.Tensor]:
    """split -> (K,) accuracy of each of the K predictors in F (K, N, k)."""
    ok = correct(F, data).float().cpu()
    return {name: ok[:, mask].mean(1) for name, mask in split_masks(data, train).items()}


def learned(phi: torch.Tensor, threshold: float = LEARNED_PHI) -> torch.Tensor:
    """(K, k, 2) bool from Phi (K, k, 2)."""
    return phi >= threshold


def view_summary(learn: torch.Tensor) -> dict[str, float]:
    """Fractions of (model, class) pairs with exactly one view, both, none; view 0's share of wins."""
    n = learn.sum(-1)
    wins = learn[n == 1]
    return {"one_view": (n == 1).float().mean().item(), "both_views": (n == 2).float().mean().item(),
            "no_view": (n == 0).float().mean().item(),
            "view0_share": wins[:, 0].float().mean().item() if len(wins) else float("nan")}


def view_agreement(learn: torch.Tensor) -> float:
    """Fraction of (pair of models, class) whose learned views are identical: learn (K, k, 2) bool.
    Independent seeds that each win one random view agree on about half of the classes."""
    K = learn.shape[0]
    same = [(learn[a] == learn[b]).all(-1).float().mean().item() for a in range(K) for b in range(a + 1, K)]
    return sum(same) / len(same) if same else float("nan")


def single_view_accuracy_by_view(F: torch.Tensor, data: Dataset, k: int) -> torch.Tensor:
    """(K, k, 2): accuracy on single-view test samples of class j whose present view is l (nan if none)."""
    ok = correct(F, data).float().cpu()
    out = torch.full((F.shape[0], k, 2), float("nan"))
    for j in range(k):
        for l in range(2):
            mask = data.single_view & (data.y == j) & (data.view == l)
            if mask.any():
                out[:, j, l] = ok[:, mask].mean(1)
    return out


def dark_logits(F_teacher: torch.Tensor, F_student: torch.Tensor, data: Dataset,
                known: torch.Tensor) -> tuple[float, float]:
    """Mean logit of class j, teacher vs student, on samples of other classes that carry view l of
    class j (and not its other view), over the (j, l) the teacher knows. This is where the teacher's
    dark knowledge asks the student for view l: a student that holds the view matches the teacher
    there, one that does not stays near 0.

    F_teacher: (N, k); F_student: (S, N, k); known: (k, 2) bool, the views the teacher has learned
    (an ensemble knows (j, l) when at least one member learned it). Each (j, l) weighs the same; the
    student's value is the mean over its S models. nan where no known view occurs that way."""
    t_vals, s_vals = [], []
    fw = data.feature_weight
    for j, l in known.nonzero().tolist():
        mask = (data.y != j) & (fw[:, 2 * j + l] > 0) & (fw[:, 2 * j + 1 - l] == 0)
        if mask.any():
            t_vals.append(F_teacher[mask, j].mean().item())
            s_vals.append(F_student[:, mask, j].mean().item())
    mean = lambda v: sum(v) / len(v) if v else float("nan")  # noqa: E731
    return mean(t_vals), mean(s_vals)


def same_filter(weights: torch.Tensor, learn: torch.Tensor) -> float:
    """Fraction of the (model, class) pairs with both views learned whose best filter for view 0 is
    also the best for view 1 (argmax_r <w_{j,r}, v_{j,0}> == argmax_r <w_{j,r}, v_{j,1}>): one filter
    holding both views, as a filter pulled along an off-class feature on its own view's patches would.

    weights: (K, k, m, F) <w_{j,r}, v_f> (model.feature_weights); learn: (K, k, 2). nan if no pair has both."""
    K, k, m, _ = weights.shape
    own = weights.reshape(K, k, m, k, 2)[:, torch.arange(k), :, torch.arange(k)]   # (k, K, m, 2)
    best = own.argmax(dim=2)                                                       # (k, K, 2)
    same = (best[..., 0] == best[..., 1]).T.cpu()                                  # (K, k)
    both = learn.all(-1).cpu()
    return same[both].float().mean().item() if both.any() else float("nan")


def member_orderings(K: int, n: int, seed: int) -> torch.Tensor:
    """n random orders of K ensemble members (the first is 0..K-1): (n, K)."""
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([torch.arange(K)] + [torch.randperm(K, generator=gen) for _ in range(n - 1)])


def ensemble_curve(F: torch.Tensor, y: torch.Tensor, orders: torch.Tensor | None = None) -> torch.Tensor:
    """Accuracy of the ensemble (mean logits) of the first n members, n = 1..K, averaged over the
    member orders: F (K, N, k), orders (R, K) (default: the members in their order) -> (K,)."""
    orders = torch.arange(F.shape[0], device=F.device)[None] if orders is None else orders
    running = F[orders].cumsum(1)                                   # (R, K, N, k)
    return (running.argmax(-1) == y).float().mean(-1).mean(0)


def coverage_curve(learn: torch.Tensor, orders: torch.Tensor) -> torch.Tensor:
    """Fraction of (class, view) pairs learned by at least one of the first n members, n = 1..K,
    averaged over the member orders: learn (K, k, 2) bool -> (K,). The lottery predicts 1 - 2^-n."""
    seen = learn[orders].cummax(1).values                            # (R, K, k, 2)
    return seen.float().mean((-1, -2)).mean(0)

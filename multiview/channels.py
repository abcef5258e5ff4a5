"""Parts of the distillation signal, as losses: which part carries a lost view to the student?

Every loss here takes the teacher's tempered probabilities p_t (S or 1, k, N) on the whole training
set (full batch) and returns a loss function for fit(): student logits (S, N, k), idx -> (S,).
T^2 factors as in Hinton et al., so each part's gradient has the full KD's scale.

  soft_target_loss  T^2 KL(p_t || softmax(F/T)), optionally on a subset of samples (the transfer
                    set) and with the gradient let through only some logits (`logit_mask`);
  tckd_loss, nckd_loss  the two parts of Decoupled KD (Zhao et al., CVPR 2022): the binary KL of
                    target vs rest, and the KL between the non-target distributions (renormalised);
                    KD = TCKD + (1 - p_t,target) NCKD;
  permute_nontarget, class_mean_target   surgery on the teacher's targets;
  paper_update_loss the paper's distillation update (sec. 4): CE on the labels plus lam times a
                    surrogate whose gradient is -sum_i (logit^tau_i(F) - logit^tau_i(G))^- grad F_i.
"""
from __future__ import annotations

import math

import torch

from .train import LossFn, classes_first, cross_entropy


def tempered(F: torch.Tensor, T: float) -> torch.Tensor:
    """softmax(F / T) over classes, classes first: (S, N, k) -> (S, k, N)."""
    return torch.softmax(classes_first(F.detach()) / T, dim=1)


def _full(idx: torch.Tensor, N: int) -> None:
    if len(idx) != N:
        raise ValueError("the distillation-channel losses train full batch (train.batch_size=0)")


def soft_target_loss(p_t: torch.Tensor, T: float, samples: torch.Tensor | None = None,
                     logit_mask: torch.Tensor | None = None) -> LossFn:
    """T^2 KL(p_t || softmax(F/T)), mean over `samples` (N,) bool (default all). logit_mask (k, N)
    bool: only those logits get the gradient (the others are held fixed), so a mask y == i keeps the
    pull on the target logit and y != i the pull on the non-target logits."""
    logp_t = torch.log(p_t.clamp(min=1e-30))
    N = p_t.shape[-1]
    w = torch.ones(N) if samples is None else samples.float()
    w = (w / w.sum()).to(p_t.device)

    def loss(F, idx):
        _full(idx, N)
        Fc = classes_first(F)
        if logit_mask is not None:
            Fc = torch.where(logit_mask, Fc, Fc.detach())
        logp_s = torch.log_softmax(Fc / T, dim=1)
        return T * T * ((p_t * (logp_t - logp_s)).sum(1) * w).sum(-1)
    return loss


def _binary(p: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """(S, k, N) -> (S, 2, N): probability of the target class y and of the rest."""
    pt = p.gather(1, y.expand(p.shape[0], 1, -1))
    return torch.cat([pt, 1 - pt], 1)


def tckd_loss(p_t: torch.Tensor, y: torch.Tensor, T: float) -> LossFn:
    """Target-class KD: T^2 KL([p_t,y, 1 - p_t,y] || [p_s,y, 1 - p_s,y]), mean over samples."""
    b_t = _binary(p_t, y)
    logb_t = torch.log(b_t.clamp(min=1e-30))

    def loss(F, idx):
        _full(idx, p_t.shape[-1])
        b_s = _binary(torch.softmax(classes_first(F) / T, dim=1), y)
        return T * T * (b_t * (logb_t - torch.log(b_s.clamp(min=1e-30)))).sum(1).mean(-1)
    return loss


def nckd_loss(p_t: torch.Tensor, y: torch.Tensor, T: float) -> LossFn:
    """Non-target-class KD: T^2 KL over the classes j != y of the renormalised distributions."""
    target = torch.zeros_like(p_t[:1], dtype=torch.bool).scatter_(1, y.expand(1, 1, -1), True)  # (1, k, N)
    q_t = torch.where(target, 0.0, p_t)
    q_t = q_t / q_t.sum(1, keepdim=True)
    logq_t = torch.log(q_t.clamp(min=1e-30))

    def loss(F, idx):
        _full(idx, p_t.shape[-1])
        logq_s = torch.log_softmax(classes_first(F).masked_fill(target, -torch.inf) / T, dim=1)
        kl = torch.where(target, 0.0, q_t * (logq_t - logq_s))
        return T * T * kl.sum(1).mean(-1)
    return loss


def permute_nontarget(p_t: torch.Tensor, y: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Each sample's non-target probabilities shuffled among its non-target classes (the target's
    kept): the dark knowledge's amount stays, which class it names is lost. (S, k, N) -> (S, k, N)."""
    S, k, N = p_t.shape
    out = p_t.clone()
    for n in range(N):
        others = torch.tensor([j for j in range(k) if j != y[n]])
        perm = others[torch.randperm(k - 1, generator=gen)]
        out[:, others, n] = p_t[:, perm, n]
    return out


def class_mean_target(p_t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The target probability replaced by its mean over the class's training samples, the
    non-target probabilities rescaled to sum to the rest: which samples the teacher finds hard is
    lost, the dark knowledge's shape is kept. (S, k, N) -> (S, k, N)."""
    S, k, N = p_t.shape
    yy = y.expand(S, 1, N)
    pt = p_t.gather(1, yy)[:, 0]                                          # (S, N)
    mean = p_t.new_zeros(S, k).index_add_(1, y, pt) / torch.bincount(y, minlength=k).clamp(min=1)
    new = mean.gather(1, y.expand(S, N))                                  # (S, N)
    scale = ((1 - new) / (1 - pt).clamp(min=1e-30))[:, None]
    return (p_t * scale).scatter(1, yy, new[:, None])


def paper_tau(k: int) -> float:
    """The paper's temperature of the truncated logit, tau = 1 / log^2 k."""
    return 1 / math.log(k) ** 2


def truncated_logit(F: torch.Tensor, tau: float) -> torch.Tensor:
    """The paper's logit^tau_i(F, X) = softmax_i(min(tau^2 F_i, 1) / tau), classes first: (S, N, k) -> (S, k, N)."""
    return torch.softmax(classes_first(F).mul(tau * tau).clamp(max=1.0) / tau, dim=1)


def paper_update_loss(teacher: torch.Tensor, y: torch.Tensor, lam: float, tau: float) -> LossFn:
    """CE(F, y) + lam * D, D = -mean_n sum_i relu(p_G,i - p_F,i).detach() * F_i with p = logit^tau:
    the gradient of D is the paper's distillation update sum_i (logit^tau_i(F) - logit^tau_i(G))^- grad F_i,
    which raises F_i only where the student's truncated probability is below the teacher's, and
    lam = eta'/eta is its learning rate relative to the cross-entropy's. teacher: (S or 1, N, k) logits."""
    p_g = truncated_logit(teacher.detach(), tau)
    ce = cross_entropy(y)

    def loss(F, idx):
        _full(idx, p_g.shape[-1])
        Fc = classes_first(F)
        push = torch.relu(p_g - truncated_logit(F, tau)).detach()
        return ce(F, idx) - lam * (push * Fc).sum(1).mean(-1)
    return loss

"""Distillation methods researchers use, in the sandbox's terms: each builds on methods.py (the
same students, optimiser and step budget as `kd`), so a difference in views learned is the method's.

Teacher ensembles, four ways (`ensemble_targets`, `random_teacher_phase`): the student matches
  logits   softmax of the averaged logits at T (the headline's `kd`);
  probs    the average of the teachers' probabilities at T;
  random   one teacher drawn at random for each student at every step;
  relabel  soft labels made once: the teachers' average probability at T = 1, plain cross-entropy.
Mutual / online distillation (`mutual`): peers trained together from scratch, each also matching the
  others' averaged soft outputs: forward KL (deep mutual learning) or a balance of forward and reverse
  KL (BD-KD's balanced divergence).
Hints (`hints`): FitNets-style regression of the student's first-layer activations onto the teacher
  ensemble's. The filters of different seeds are unordered, so the matched activation is the
  permutation-invariant one: a_{j,p}(X) = sum_r sReLU(<w_{j,r}, x_p>), class j's response to patch p.
Teacher assistants (`via_assistants`): a narrower student distilled through an intermediate-width network.
Label refinery (`label_refinery`): born-again generations with the relabelling loss (T = 1).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from . import methods as M
from .data import Dataset
from .model import Params, preactivations, srelu
from .seeding import Group
from .train import TrainConfig, classes_first, fit

WAYS = ("logits", "probs", "random", "relabel")


@torch.no_grad()
def ensemble_targets(teachers, train: Dataset, way: str, T: float) -> torch.Tensor:
    """Teacher 'logits' (1, N, k) whose softmax at the phase's temperature is the ensemble's target.

    logits: the averaged logits. probs: T log(mean_i softmax(F_i / T)), whose softmax at T is the
    averaged probability. relabel: log(mean_i softmax(F_i)), used at T = 1 (see relabel_config)."""
    F = teachers.logits(train)
    if way == "logits":
        return F.mean(0, keepdim=True)
    t = T if way == "probs" else 1.0
    return t * torch.log(torch.softmax(F / t, -1).mean(0, keepdim=True).clamp(min=1e-30))


def relabel_config(dcfg: M.DistillConfig) -> M.DistillConfig:
    """Relabelling: soft labels at T = 1 and only those (alpha = 1). At T = 1 the KD loss is the
    cross-entropy against the soft labels minus their (constant) entropy: the same gradient."""
    return replace(dcfg, T=1.0, alpha=1.0, one_sided=False)


def random_teacher_phase(name: str, group: int, teachers, train: Dataset, dcfg: M.DistillConfig,
                         seed: int) -> M.Phase:
    """n_students students; at every step each draws one teacher uniformly and matches it (KD loss)."""
    with torch.no_grad():
        F = teachers.logits(train)                       # (S_t, N, k)
    gen = torch.Generator().manual_seed(seed)
    losses = [M.kd_loss(F[i:i + 1], train.y, dcfg.T, dcfg.alpha, dcfg.one_sided) for i in range(F.shape[0])]

    def loss(S, idx):
        pick = torch.randint(F.shape[0], (S.shape[0],), generator=gen).tolist()
        return torch.cat([losses[p](S[i:i + 1], idx) for i, p in enumerate(pick)])
    return M.Phase(name, group, dcfg.n_students, loss)


def teacher_ensemble_phase(way: str, group: int, teachers, train: Dataset, dcfg: M.DistillConfig,
                           seed: int = 0) -> tuple[M.Phase, M.DistillConfig]:
    """The phase of one of the four ways, and the distillation config it needs (relabel: T = 1)."""
    if way not in WAYS:
        raise ValueError(f"way={way!r}: must be one of {', '.join(WAYS)}")
    if way == "random":
        return random_teacher_phase(way, group, teachers, train, dcfg, seed), dcfg
    cfg = relabel_config(dcfg) if way == "relabel" else dcfg
    return M.soft_phase(way, group, ensemble_targets(teachers, train, way, cfg.T), train, cfg), cfg


def mutual_loss(y: torch.Tensor, T: float, weight: float, balance: float):
    """Each peer i: CE(F_i, y) + weight T^2 [(1 - balance) KL(q_i || p_i) + balance KL(p_i || q_i)],
    p_i = softmax(F_i / T), q_i = the other peers' mean probability at T, held fixed (no gradient).
    balance 0: deep mutual learning; 0.5: a balanced forward/reverse divergence (BD-KD)."""
    ce = M.cross_entropy(y)

    def loss(F, idx):
        logp = torch.log_softmax(classes_first(F) / T, dim=1)   # (K, k, n)
        p = logp.exp()
        n = F.shape[0]
        with torch.no_grad():
            q = ((p.sum(0, keepdim=True) - p) / max(n - 1, 1)).clamp(min=1e-30)
            logq = q.log()
        forward = (q * (logq - logp)).sum(1).mean(-1)
        reverse = (p * (logp - logq)).sum(1).mean(-1)
        return ce(F, idx) + weight * T * T * ((1 - balance) * forward + balance * reverse)
    return loss


def mutual(make, train: Dataset, cfg: TrainConfig, dcfg: M.DistillConfig, n_peers: int, balance: float,
           weight: float = 1.0, group: int = Group.MUTUAL, quiet=True):
    """n_peers networks trained together from scratch with mutual_loss, for the same two phases as
    offline KD's teacher and student: cfg.max_steps steps of the training optimiser, then dcfg.steps of
    the distillation optimiser (fixed lengths: equal compute per network). Returns (peers after the
    first phase, peers at the end)."""
    loss = mutual_loss(train.y, dcfg.T, weight, balance)
    first, _ = fit(make(n_peers, group), train, cfg, loss, quiet=quiet, steps=cfg.max_steps, desc="mutual")
    peers, _ = fit(first, train, M.distill_phase(cfg, dcfg), loss, quiet=quiet, steps=dcfg.steps,
                   desc="mutual, distillation phase")
    return first, peers


def patch_activations(params: Params, data: Dataset) -> torch.Tensor:
    """a_{j,p} = sum_r sReLU(<w_{j,r}, x_p>): (K, N, k, P). Summed over filters, so comparable across
    seeds whose filters are in a different order."""
    return srelu(preactivations(params, data), params.cfg.q, params.cfg.varrho).sum(-1)


@dataclass
class _Hinted:
    """Networks seen through their patch activations: fit() trains them to regress a target."""
    params: Params
    class_dims = Params.class_dims

    @property
    def K(self):
        return self.params.K

    def tensors(self):
        return self.params.tensors()

    def logits(self, data):  # (K, N, k P): what fit() hands to the loss
        a = patch_activations(self.params, data)
        return a.reshape(a.shape[0], a.shape[1], -1)

    def phi(self):
        return self.params.phi()

    def detach(self):
        return _Hinted(self.params.detach())


def hints(make, teachers: Params, train: Dataset, cfg: TrainConfig, dcfg: M.DistillConfig, group: int = Group.HINTS,
          quiet=True) -> Params:
    """n_students fresh networks regress the teachers' mean patch activations (squared error, summed
    over classes and patches) for dcfg.steps steps of the distillation optimiser."""
    with torch.no_grad():
        target = patch_activations(teachers, train).mean(0, keepdim=True).flatten(2)   # (1, N, k P)

    def loss(A, idx):
        return (A - target[:, idx]).square().sum(-1).mean(-1)
    hinted, _ = fit(_Hinted(make(dcfg.n_students, group)), train, M.distill_phase(cfg, dcfg), loss,
                    quiet=quiet, steps=dcfg.steps, desc="hints")
    return hinted.params


def then_kd(students, teachers, train: Dataset, cfg: TrainConfig, dcfg: M.DistillConfig, quiet=True):
    """Ordinary KD from the teachers' ensemble, continued from `students` (e.g. hinted networks)."""
    kd = M.kd_loss(M.ensemble_logits(teachers, train), train.y, dcfg.T, dcfg.alpha, dcfg.one_sided)
    return fit(students, train, M.distill_phase(cfg, dcfg), kd, quiet=quiet, steps=dcfg.steps, desc="then KD")[0]


def via_assistants(make_student, assistants, train: Dataset, cfg: TrainConfig, dcfg: M.DistillConfig,
                   quiet=True):
    """Teacher-assistant KD, second step: student i distilled from assistant i alone. The assistants
    are students themselves: methods.kd from the ensemble with a make of the assistant's width."""
    with torch.no_grad():
        t = assistants.logits(train)
    return M.distill(make_student, t, train, cfg, dcfg, group=Group.ASSISTANT, quiet=quiet)[0]


def label_refinery(make, teachers, train: Dataset, cfg: TrainConfig, dcfg: M.DistillConfig, generations: int,
                   quiet=True) -> list:
    """Label refinery: each generation relabels the training set with the previous generation's soft
    outputs and trains a fresh network on them: the born-again chain with the relabelling loss."""
    return M.born_again(make, teachers, train, cfg, relabel_config(dcfg), generations, quiet)

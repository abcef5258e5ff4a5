"""The methods of the paper's Figure 3, as functions over models: single, ensemble, kd,
self_distill and train_average. Each works for every family (nn, ntk, rf) through the family's
`make(K, group)` (seeding.Group names the groups) and the common predictor interface (logits, tensors, class_dims).

KD loss (Hinton et al. 2015, as in RepDistiller's DistillKL):
    alpha * T^2 * KL(softmax(t/T) || softmax(s/T)) + (1 - alpha) * CE(s, y),   KL batch-mean.
The T^2 keeps the soft term's gradient scale as T changes. `one_sided` is the paper's variant: the
soft term only pushes up the student's tempered probability of a class where it is below the
teacher's: T^2 * sum_i relu(p_t,i - p_s,i) * (-log p_s,i), the weight held fixed.
Ensemble teachers: the members' logits are averaged (the ensemble's prediction), then tempered.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import torch

from .config import Choice, Int, Real, knob, validate_fields
from .data import Dataset
from .seeding import Group
from .train import AVERAGES, LossFn, TrainConfig, classes_first, cross_entropy, fit

Make = Callable[[int, int], object]   # (K, group) -> fresh predictor of K models


@dataclass(frozen=True)
class DistillConfig:
    T: float = knob(4.0, Real(0, 1e4, lo_open=True), "KD temperature")
    alpha: float = knob(1.0, Real(0, 1), "weight of the soft (teacher) term; 1 - alpha on the labels")
    one_sided: bool = knob(False, None, "the paper's one-sided KD variant")
    steps: int = knob(2000, Int(1, 10_000_000), "KD / self-distillation training steps (fixed length)")
    step_size: float = knob(0.002, Real(0, 1e6, lo_open=True), "eta of the distillation phase's normalised step")
    normalise: str = knob("tensor", Choice(("class", "tensor")), "the distillation phase's step normalisation "
                          "(see train.normalise); tensor: features and memorisation get separate steps")
    n_students: int = knob(3, Int(1, 100_000), "students trained (batched) per method")
    average: str = knob("sum", None, "train_average variant: sum, mean or separate (see train.fit)")
    paper_lam: float = knob(100.0, Real(0, 1e9), "the paper's distillation update (kd_paper, self_distill_paper): "
                            "eta'/eta, its rate relative to the cross-entropy's")
    paper_steps: int = knob(1000, Int(1, 10_000_000), "steps of the paper's update (with the singles' step, train.*)")
    paper_tau: float = knob(0.0, Real(0, 1e4), "tau of its truncated logit; 0 = the paper's 1 / log^2 k")

    def __post_init__(self):
        validate_fields(self)
        if self.average not in AVERAGES:
            from .config import fail
            fail("average", self.average, "one of " + ", ".join(AVERAGES))


def kd_loss(teacher: torch.Tensor, y: torch.Tensor, T: float, alpha: float, one_sided: bool = False):
    """Loss function for fit(): student logits (S, n, k), idx (n,) -> (S,).

    teacher: (S or 1, N, k) logits on the whole training set (1: one teacher for every student)."""
    p_t = torch.softmax(classes_first(teacher.detach()) / T, dim=1)          # (S, k, N), fixed
    logp_t = torch.log(p_t.clamp(min=1e-30))
    ce = cross_entropy(y)

    def loss(F, idx):
        full = len(idx) == p_t.shape[-1] and torch.equal(idx, torch.arange(len(idx), device=idx.device))
        pt, lt = (p_t, logp_t) if full else (p_t[..., idx], logp_t[..., idx])
        logp_s = torch.log_softmax(classes_first(F) / T, dim=1)              # (K, k, n)
        if one_sided:
            soft = (torch.relu(pt - logp_s.exp()).detach() * -logp_s).sum(1).mean(-1)
        else:
            soft = (pt * (lt - logp_s)).sum(1).mean(-1)
        total = alpha * T * T * soft
        return total + (1 - alpha) * ce(F, idx) if alpha < 1 else total
    return loss


@torch.no_grad()
def ensemble_logits(models, data: Dataset) -> torch.Tensor:
    """Average of the members' logits: (1, N, k)."""
    return models.logits(data).mean(0, keepdim=True)


def single(make: Make, train: Dataset, cfg: TrainConfig, quiet=True):
    """K independently seeded models (batched)."""
    return fit(make(cfg.n_models, Group.TEACHERS), train, cfg, quiet=quiet, desc="single")


def distill_phase(cfg: TrainConfig, dcfg: DistillConfig) -> TrainConfig:
    """The optimiser of every distillation phase: the training config with the phase's own step."""
    return replace(cfg, step_size=dcfg.step_size, normalise=dcfg.normalise)


@dataclass(frozen=True)
class Phase:
    """`n` fresh students of seed group `group`, trained on `loss`: their logits (n, B, k), idx -> (n,)."""
    name: str
    group: int
    n: int
    loss: LossFn


def soft_phase(name: str, group: int, teacher_logits: torch.Tensor, train: Dataset, dcfg: DistillConfig) -> Phase:
    """Students on a teacher's soft targets: one per teacher row, or n_students for one teacher."""
    S = teacher_logits.shape[0] if teacher_logits.shape[0] > 1 else dcfg.n_students
    return Phase(name, group, S, kd_loss(teacher_logits, train.y, dcfg.T, dcfg.alpha, dcfg.one_sided))


def label_control_phase(train: Dataset, cfg: TrainConfig, dcfg: DistillConfig) -> Phase:
    """n_students students on the hard labels (the control for every distillation result)."""
    return Phase("label_control", Group.LABEL_CONTROL, dcfg.n_students, cross_entropy(train.y, cfg.label_smoothing))


def train_phases(make: Make, phases: list[Phase], train: Dataset, cfg: TrainConfig, dcfg: DistillConfig,
                 quiet=True, probe=None) -> tuple[dict, object]:
    """Every phase's students as ONE batch: one fit of dcfg.steps steps with the distillation
    optimiser. Each model's step is normalised on its own and training has a fixed length, so a
    student's trajectory does not depend on the batch it is in; batching only saves time.
    probe: fit's read-only instrument (its records cover the whole batch, phases in order).
    Returns ({phase name: its students}, the batch's History)."""
    parts = [make(p.n, p.group) for p in phases]
    bounds = torch.tensor([0] + [p.n for p in phases]).cumsum(0).tolist()

    def loss(F, idx):
        return torch.cat([p.loss(F[a:b], idx) for p, a, b in zip(phases, bounds, bounds[1:])])

    trained, hist = fit(type(parts[0]).cat(parts), train, distill_phase(cfg, dcfg), loss, quiet=quiet,
                        steps=dcfg.steps, desc="distill " + ",".join(p.name for p in phases), probe=probe)
    return {p.name: trained.select(range(a, b)) for p, a, b in zip(phases, bounds, bounds[1:])}, hist


def distill(make: Make, teacher_logits: torch.Tensor, train: Dataset, cfg: TrainConfig,
            dcfg: DistillConfig, group: int, quiet=True):
    """Fresh students (one per teacher row, or n_students for one teacher) trained on soft targets
    for dcfg.steps steps with the distillation phase's optimiser. Returns (students, History)."""
    return _one(make, soft_phase("kd", group, teacher_logits, train, dcfg), train, cfg, dcfg, quiet)


def kd_phase(teachers, train: Dataset, dcfg: DistillConfig) -> Phase:
    """n_students students distilled from the ensemble of all teachers."""
    return soft_phase("kd", Group.KD, ensemble_logits(teachers, train), train, dcfg)


def self_distill_phase(teachers, train: Dataset, dcfg: DistillConfig) -> Phase:
    """Student i distils from teacher i alone, for the first n_students teachers."""
    with torch.no_grad():
        t = teachers.select(range(min(dcfg.n_students, teachers.K))).logits(train)
    return soft_phase("self_distill", Group.SELF_DISTILL, t, train, dcfg)


def _one(make, phase, train, cfg, dcfg, quiet):
    out, hist = train_phases(make, [phase], train, cfg, dcfg, quiet)
    return out[phase.name], hist


def label_control(make: Make, train: Dataset, cfg: TrainConfig, dcfg: DistillConfig, quiet=True):
    """The control: hard labels with the distillation optimiser and step budget. If these gain as much
    as the students, the optimiser, not the teacher, did it."""
    return _one(make, label_control_phase(train, cfg, dcfg), train, cfg, dcfg, quiet)


def paper_distill(dcfg: DistillConfig, cfg: TrainConfig) -> DistillConfig:
    """The paper's update runs with the singles' own step (their eta, normalisation) for paper_steps."""
    return replace(dcfg, step_size=cfg.step_size, normalise=cfg.normalise, steps=dcfg.paper_steps)


def paper_phase(name: str, group: int, teacher_logits: torch.Tensor, train: Dataset, dcfg: DistillConfig,
                lam: float | None = None) -> Phase:
    """Students under the paper's distillation update (channels.paper_update_loss) at lam = eta'/eta
    (default dcfg.paper_lam): one per teacher row, or n_students for one teacher."""
    from .channels import paper_tau, paper_update_loss

    S = teacher_logits.shape[0] if teacher_logits.shape[0] > 1 else dcfg.n_students
    tau = dcfg.paper_tau or paper_tau(train.feature_weight.shape[1] // 2 or int(train.y.max()) + 1)
    return Phase(name, group, S, paper_update_loss(teacher_logits, train.y, dcfg.paper_lam if lam is None else lam, tau))


def kd(make: Make, teachers, train: Dataset, cfg: TrainConfig, dcfg: DistillConfig, quiet=True):
    return _one(make, kd_phase(teachers, train, dcfg), train, cfg, dcfg, quiet)


def self_distill(make: Make, teachers, train: Dataset, cfg: TrainConfig, dcfg: DistillConfig, quiet=True):
    return _one(make, self_distill_phase(teachers, train, dcfg), train, cfg, dcfg, quiet)


def born_again(make: Make, teachers, train: Dataset, cfg: TrainConfig, dcfg: DistillConfig, generations: int,
               quiet=True) -> list:
    """Self-distillation chains (born-again networks): generation g's student i distils from
    generation g-1's model i, starting from the first n_students teachers. Returns [gen 0, ..., gen G]."""
    chain = [teachers.select(range(min(dcfg.n_students, teachers.K)))]
    for g in range(1, generations + 1):
        with torch.no_grad():
            t = chain[-1].logits(train)
        chain.append(distill(make, t, train, cfg, dcfg, group=Group.BORN_AGAIN + g, quiet=quiet)[0])
    return chain


def train_average(make: Make, train: Dataset, cfg: TrainConfig, dcfg: DistillConfig, quiet=True):
    """One predictor made of K sub-networks, trained end to end on the labels (see fit's `average`)."""
    return fit(make(cfg.n_models, Group.AVERAGE), train, cfg, quiet=quiet, average=dcfg.average, desc="average")


def combined_logits(models, data: Dataset, average: str) -> torch.Tensor:
    """The trained-average predictor's logits (1, N, k)."""
    F = models.logits(data)
    return F.mean(0, keepdim=True) if average == "mean" else F.sum(0, keepdim=True)

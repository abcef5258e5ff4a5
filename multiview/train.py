"""Gradient descent for K batched models, with the view history that shows the lottery.

Optimiser: gradient descent with a normalised step per (model, class) block. The plain gradient of
the polynomial phase (sReLU ~ z^q near 0) is tiny, so plain GD needs very many steps there; instead
each class's filter bank moves by lr * grad with lr = clamp(step_size / ||grad||, lr_min, lr_max).
Direction is the plain gradient's, so the dynamics (which view wins the lottery) are GD's; the same
optimiser is used for every method. lr_min = lr_max gives plain GD.

Each model stops on its own once it fits (min training margin F_y - max_{j!=y} F_j >= fit_margin),
so a model's trajectory never depends on the other models in its batch.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import torch
from tqdm.auto import tqdm

from .config import Choice, Int, Real, knob, validate_fields
from .data import Dataset, drop_views
from ._kernel import clear_spare_grads, release_grads
from .predictor import HasViews


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf."""


@dataclass(frozen=True)
class TrainConfig:
    n_models: int = knob(10, Int(1, 100_000), "K: models trained independently (batched)")
    max_steps: int = knob(2000, Int(1, 10_000_000), "step budget")
    step_size: float = knob(0.02, Real(0, 1e6, lo_open=True), "eta: length of a normalised step per (model, class)")
    lr_min: float = knob(1.0, Real(0, 1e9, lo_open=True), "smallest learning rate of the normalised step")
    lr_max: float = knob(500.0, Real(0, 1e9, lo_open=True), "largest learning rate of the normalised step")
    fit_margin: float = knob(1.0, Real(0, 1e6), "stop a model once every training margin is >= this")
    batch_size: int = knob(0, Int(0, 10_000_000), "mini-batch size; 0 = full batch")
    log_every: int = knob(10, Int(1, 10_000_000), "steps between history records")
    normalise: str = knob("class", Choice(("class", "tensor")), "normalised step per (model, class) over all its "
                          "parameters (class), or separately per parameter tensor (tensor: in the d -> inf limit the "
                          "feature coordinates W and the memorising noise coordinates C get their own step)")
    label_smoothing: float = knob(0.0, Real(0, 1, hi_open=True), "epsilon of label smoothing on hard-label losses")
    view_dropout: float = knob(0.0, Real(0, 1), "augmentation: per step, each multi-view training sample loses "
                               "the patches of one random view with this probability")

    def __post_init__(self):
        validate_fields(self)
        if self.lr_min > self.lr_max:
            from .config import ConfigError
            raise ConfigError(f"lr_min={self.lr_min!r} is not allowed: must be <= lr_max={self.lr_max!r}")


@dataclass
class History:
    """Records at logged steps. loss, acc: (T, K); phi: (T, K, k, 2); steps: (T,)."""
    steps: list = field(default_factory=list)
    loss: list = field(default_factory=list)
    acc: list = field(default_factory=list)
    phi: list = field(default_factory=list)
    stopped_at: torch.Tensor | None = None  # (K,) step at which each model fit (or the budget)
    probe_steps: list = field(default_factory=list)  # steps at which fit's `probe` recorded
    probe: list = field(default_factory=list)        # what it returned there

    def record(self, step, loss, acc, ph):
        self.steps.append(step)
        self.loss.append(loss.detach().cpu())
        self.acc.append(acc.detach().cpu())
        if ph is not None:
            self.phi.append(ph.detach().cpu())

    def stacked(self) -> dict[str, torch.Tensor]:
        out = {"steps": torch.tensor(self.steps), "loss": torch.stack(self.loss), "acc": torch.stack(self.acc)}
        if self.phi:
            out["phi"] = torch.stack(self.phi)
        return out


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Probe = Callable[..., torch.Tensor]  # (model, batch, dF, rates) -> what to record (see fit)


def classes_first(F: torch.Tensor) -> torch.Tensor:
    """(K, n, k) logits as a contiguous (K, k, n): the losses reduce over classes along dim 1. On a
    CPU a reduction over a short contiguous last axis (k = 10) is several times slower than this."""
    return F.transpose(-1, -2).contiguous()


def cross_entropy(y: torch.Tensor, label_smoothing: float = 0.0) -> LossFn:
    """Per-model mean cross-entropy against labels y (smoothed by epsilon as torch's label_smoothing):
    logits (K, n, k), idx (n,) -> (K,)."""
    def loss(F, idx):
        logp = torch.log_softmax(classes_first(F), dim=1)                    # (K, k, n)
        nll = -logp.gather(1, y[idx].expand(F.shape[0], 1, -1))[:, 0]       # (K, n)
        if label_smoothing:
            nll = (1 - label_smoothing) * nll - label_smoothing * logp.mean(1)
        return nll.mean(1)
    return loss


def margins(F: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """F_y - max_{j != y} F_j: (K, n)."""
    Fc, yy = classes_first(F), y.expand(F.shape[0], 1, -1)
    return Fc.gather(1, yy)[:, 0] - Fc.scatter(1, yy, -torch.inf).amax(1)


def _blocks(t: torch.Tensor, dim: int) -> torch.Tensor:
    """t (K, ..., k, ...) with class axis `dim` as a (K, A, k * B) view: A the sizes between the model
    and class axes, B those after; every per-(model, class) product then runs over contiguous rows."""
    return t.view(t.shape[0], math.prod(t.shape[1:dim]), -1)


SQUARES_CHUNK = 1 << 17  # squares per chunk and thread (512 KB): a big gradient is squared and summed in cache


def _column_sq(b: torch.Tensor) -> torch.Tensor:
    """sum_a b[:, a, c]^2: (K, A, L) -> (K, L). A model's block larger than a chunk goes through a
    cache-resident buffer, a chunk of rows at a time: the squares never make a second pass to memory."""
    K, A, L = b.shape
    chunk = SQUARES_CHUNK * torch.get_num_threads()
    if A * L <= chunk:
        return torch.mul(b, b).sum(1)
    rows = max(1, chunk // L)
    out, buf = b.new_zeros(K, L), b.new_empty(min(rows, A), L)
    for i in range(K):
        for a in range(0, A, rows):
            c = b[i, a:a + rows]
            out[i] += torch.mul(c, c, out=buf[: len(c)]).sum(0)
    return out


def step_rates(model, cfg: TrainConfig, active: torch.Tensor, shared: bool = False) -> list[torch.Tensor]:
    """The normalised step's learning rates from the gradients in each tensor's .grad: one (K, k)
    rate lr = clamp(eta/||g||, lr_min, lr_max) per (model, class) block, for each of model.tensors().

    shared=True takes one step per class for all K models together (they form one predictor).
    active: (K,) bool, models still training (rate 0 otherwise)."""
    def block_sq(t, dim):  # (K, k): squared gradient norm of each (model, class) block of tensor t
        return _column_sq(_blocks(t.grad.contiguous(), dim)).view(t.shape[0], t.shape[dim], -1).sum(-1)

    def rate(sq):
        if shared:
            sq = sq.sum(0, keepdim=True).expand_as(sq)
        return (cfg.step_size / sq.sqrt().clamp(min=1e-30)).clamp(cfg.lr_min, cfg.lr_max) * active[:, None]

    pairs = list(zip(model.tensors(), model.class_dims))
    if cfg.normalise == "tensor":
        rates = [rate(block_sq(t, dim)) for t, dim in pairs]
    else:
        rates = [rate(sum(block_sq(t, dim) for t, dim in pairs))] * len(pairs)
    return rates


def normalised_step(model, cfg: TrainConfig, active: torch.Tensor, shared: bool = False) -> None:
    """In place: each (model, class) block moves by lr * grad, lr = clamp(eta/||g||, lr_min, lr_max)
    (`step_rates`). shared=True: one step per class for all K models; active: (K,) bool."""
    pairs = list(zip(model.tensors(), model.class_dims))
    rates = step_rates(model, cfg, active, shared)
    with torch.no_grad():
        for (t, dim), lr in zip(pairs, rates):  # lr spread over each class's row: contiguous products
            rows = lr[:, None, :, None].expand(-1, 1, -1, math.prod(t.shape[dim + 1:])).reshape(lr.shape[0], 1, -1)
            _blocks(t, dim).addcmul_(rows, _blocks(t.grad.contiguous(), dim), value=-1.0)


AVERAGES = ("sum", "mean", "separate")


def fit(model, train: Dataset, cfg: TrainConfig, loss_fn: LossFn | None = None, quiet: bool = False,
        seed: int = 0, desc: str = "train", average: str | None = None, steps: int | None = None,
        probe: Probe | None = None):
    """Train the K models of `model` on `train`; returns (trained copy, History).

    loss_fn(logits (G, n, k), idx (n,)) -> (G,) defaults to cross-entropy on train.y; KD passes its
    own. Each predictor stops once its training margins all reach cfg.fit_margin, or after `steps`
    (default cfg.max_steps) when `steps` is given explicitly (fixed-length training, e.g. KD).

    probe(model, batch, dF, rates) -> tensor, an instrument: called every cfg.log_every steps after
    the backward and before the step, with the gradient dF of the summed losses w.r.t. the logits
    (G, n, k) and the step's rates (`step_rates`); its outputs go to History.probe. It reads only,
    so training is unchanged (with a probe every model stays in the batch to the end).

    average: None trains K independent predictors (G = K). Otherwise the K models are sub-networks
    of ONE predictor (G = 1) trained end to end: "sum" uses F = sum_k F_k, "mean" F = (1/K) sum_k F_k,
    both with one normalised step per class shared by all sub-networks (GD on one model);
    "separate" uses the sum with a separately normalised step per sub-network.
    """
    if average is not None and average not in AVERAGES:
        raise ValueError(f"average={average!r}: must be one of {AVERAGES}")
    model = _trainable(model.detach())
    K, N = model.K, len(train)
    # models that fit leave the batch (their steps cost nothing more) when nothing else couples them:
    # independent models, the default loss, the same full batch at every step
    compact = loss_fn is None and average is None and (cfg.batch_size == 0 or cfg.batch_size >= N) \
        and cfg.view_dropout == 0 and steps is None and probe is None
    final = model.detach() if compact else None
    loss_fn = loss_fn or cross_entropy(train.y, cfg.label_smoothing)
    G = K if average is None else 1
    budget = cfg.max_steps if steps is None else steps
    active = torch.ones(G, dtype=torch.bool, device=model.tensors()[0].device)
    live = torch.arange(G, device=active.device)  # which of the G models each row of the batch is
    stopped = torch.full((G,), budget)
    last_rec = None  # the last record of all G models: those that left the batch keep theirs
    hist = History()
    gen = torch.Generator().manual_seed(seed)

    track_views = isinstance(model, HasViews) and train.feature_weight.shape[1] > 0  # data with views

    def predict(data):
        F = model.logits(data)
        if average is None:
            return F
        return F.mean(0, keepdim=True) if average == "mean" else F.sum(0, keepdim=True)

    bar = tqdm(range(budget + 1), desc=desc, disable=quiet, leave=False)
    for step in bar:
        full = cfg.batch_size == 0 or cfg.batch_size >= N
        idx = torch.arange(N) if full else torch.randperm(N, generator=gen)[: cfg.batch_size]
        batch = train if full else train.subset(idx)
        if cfg.view_dropout > 0:
            batch = drop_views(batch, cfg.view_dropout, gen)
        F = predict(batch)
        losses = loss_fn(F, idx.to(F.device))
        if not torch.isfinite(losses).all():
            raise TrainingDiverged(f"training diverged at step {step}: loss is {losses.max().item()}; "
                                   f"try a smaller train.step_size or train.lr_max")
        last = step == budget
        if full or step % cfg.log_every == 0 or last:
            with torch.no_grad():
                mar = margins(F.detach() if full else predict(train), train.y)
            fitted = mar.amin(1) >= cfg.fit_margin if steps is None else torch.zeros_like(active)
            newly = active & fitted
            stopped[live[newly].cpu()] = step
            if step % cfg.log_every == 0 or newly.any() or last:
                rec = [losses.detach(), (mar > 0).float().mean(1), model.phi() if track_views else None]
                if last_rec is not None and len(live) < G:
                    rec = [None if old is None else old.clone().index_put_((live,), new)
                           for old, new in zip(last_rec, rec)]
                hist.record(step, *rec)
                last_rec = rec
                bar.set_postfix(loss=f"{losses.mean().item():.3g}", fit=f"{G - int(active.sum())}/{G}")
            active = active & ~fitted
        if not active.any() or last:
            break
        release_grads(model.tensors())
        if probe is not None:
            F.retain_grad()
        losses.sum().backward()
        moving = active if average is None else active.expand(K)
        if probe is not None and step % cfg.log_every == 0:
            with torch.no_grad():
                hist.probe.append(probe(model, batch, F.grad, step_rates(model, cfg, moving, average in ("sum", "mean"))))
            hist.probe_steps.append(step)
        normalised_step(model, cfg, moving, shared=average in ("sum", "mean"))
        if compact and newly.any():
            _store(final, model, live, newly)
            model = _trainable(model.select(active.nonzero()[:, 0]).detach())
            live, active = live[active], active[active]
    bar.close()
    clear_spare_grads()
    hist.stopped_at = stopped
    if compact:
        _store(final, model, live, torch.ones_like(active))
        return final, hist
    return model.detach(), hist


def _trainable(model):
    for t in model.tensors():
        t.requires_grad_(True)
    return model


@torch.no_grad()
def _store(final, model, live: torch.Tensor, rows: torch.Tensor) -> None:
    """Write the batch's models `rows` (bool) into their places `live[rows]` of the full set `final`."""
    for T, t in zip(final.tensors(), model.tensors()):
        T[live[rows]] = t[rows]

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

from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as Fn
from tqdm.auto import tqdm

from .config import Int, Real, knob, validate_fields
from .data import Dataset
from .model import Params, logits, phi


class TrainingDiverged(RuntimeError):
    """The loss became NaN or inf."""


@dataclass(frozen=True)
class TrainConfig:
    n_models: int = knob(10, Int(1, 100_000), "K: models trained independently (batched)")
    max_steps: int = knob(4000, Int(1, 10_000_000), "step budget")
    step_size: float = knob(0.02, Real(0, 1e6, lo_open=True), "eta: length of a normalised step per (model, class)")
    lr_min: float = knob(1.0, Real(0, 1e9, lo_open=True), "smallest learning rate of the normalised step")
    lr_max: float = knob(500.0, Real(0, 1e9, lo_open=True), "largest learning rate of the normalised step")
    fit_margin: float = knob(1.0, Real(0, 1e6), "stop a model once every training margin is >= this")
    batch_size: int = knob(0, Int(0, 10_000_000), "mini-batch size; 0 = full batch")
    log_every: int = knob(10, Int(1, 10_000_000), "steps between history records")

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

    def record(self, step, loss, acc, ph):
        self.steps.append(step)
        self.loss.append(loss.detach().cpu())
        self.acc.append(acc.detach().cpu())
        self.phi.append(ph.detach().cpu())

    def stacked(self) -> dict[str, torch.Tensor]:
        return {"steps": torch.tensor(self.steps), "loss": torch.stack(self.loss),
                "acc": torch.stack(self.acc), "phi": torch.stack(self.phi)}


LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def cross_entropy(y: torch.Tensor) -> LossFn:
    """Per-model mean cross-entropy against labels y: logits (K, n, k), idx (n,) -> (K,)."""
    def loss(F, idx):
        K, n, k = F.shape
        return Fn.cross_entropy(F.reshape(K * n, k), y[idx].repeat(K), reduction="none").reshape(K, n).mean(1)
    return loss


def margins(F: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """F_y - max_{j != y} F_j: (K, n)."""
    Fy = F.gather(2, y.expand(F.shape[0], -1)[..., None])[..., 0]
    other = F.scatter(2, y.expand(F.shape[0], -1)[..., None], -torch.inf).amax(2)
    return Fy - other


def normalised_step(params: Params, cfg: TrainConfig, active: torch.Tensor) -> None:
    """In place: each (model, class) block moves by lr * grad, lr = clamp(eta/||g||, lr_min, lr_max)."""
    sq = params.W.grad.pow(2).sum(dim=(2, 3))                        # (K, k)
    if params.C is not None:
        sq = sq + params.C.grad.pow(2).sum(dim=(1, 2, 4))
    lr = (cfg.step_size / sq.sqrt().clamp(min=1e-30)).clamp(cfg.lr_min, cfg.lr_max)
    lr = lr * active[:, None]
    with torch.no_grad():
        params.W -= lr[:, :, None, None] * params.W.grad
        if params.C is not None:
            params.C -= lr[:, None, None, :, None] * params.C.grad


def fit(params: Params, train: Dataset, cfg: TrainConfig, loss_fn: LossFn | None = None,
        quiet: bool = False, seed: int = 0, desc: str = "train") -> tuple[Params, History]:
    """Train K models until each fits train.y with margin cfg.fit_margin or max_steps.

    loss_fn(logits (K, n, k), idx (n,)) -> (K,) defaults to cross-entropy on train.y; KD passes its
    own. Returns trained (detached) params and the history.
    """
    params = params.detach()
    for t in params.tensors():
        t.requires_grad_(True)
    loss_fn = loss_fn or cross_entropy(train.y)
    K, N = params.K, len(train)
    active = torch.ones(K, dtype=torch.bool, device=params.W.device)
    stopped = torch.full((K,), cfg.max_steps)
    hist = History()
    gen = torch.Generator().manual_seed(seed)
    bar = tqdm(range(cfg.max_steps + 1), desc=desc, disable=quiet, leave=False)
    for step in bar:
        full = cfg.batch_size == 0 or cfg.batch_size >= N
        idx = torch.arange(N) if full else torch.randperm(N, generator=gen)[: cfg.batch_size]
        batch = train if full else train.subset(idx)
        F = logits(params, batch)
        losses = loss_fn(F, idx.to(F.device))
        if not torch.isfinite(losses).all():
            raise TrainingDiverged(f"training diverged at step {step}: loss is {losses.max().item()}; "
                                   f"try a smaller train.step_size or train.lr_max")
        if full or step % cfg.log_every == 0 or step == cfg.max_steps:
            Fall = F if full else logits(params, train).detach()
            mar = margins(Fall.detach(), train.y)
            fitted = (mar.amin(1) >= cfg.fit_margin) if cfg.fit_margin > 0 else (mar.amin(1) > 0)
            newly = active & fitted
            stopped[newly.cpu()] = step
            log = step % cfg.log_every == 0 or newly.any() or step == cfg.max_steps
            active = active & ~fitted
            if log:
                hist.record(step, losses, (mar > 0).float().mean(1), phi(params))
                bar.set_postfix(loss=f"{losses.mean().item():.3g}", fit=f"{K - int(active.sum())}/{K}")
        if not active.any() or step == cfg.max_steps:
            break
        for t in params.tensors():
            t.grad = None
        losses.sum().backward()
        normalised_step(params, cfg, active)
    bar.close()
    hist.stopped_at = stopped
    return params.detach(), hist

"""Multi-view data (Allen-Zhu & Li, Def. 3.1) and its controls.

Features: class j has views v_{j,0}, v_{j,1}; feature f = 2 j + l. The 2k features are the first 2k
coordinate axes. That is no loss of generality: the learner's Gaussian init and gradient descent
are rotation-equivariant, so any orthonormal feature basis gives the same results in distribution.

Noise models (`noise`):
  isotropic   xi ~ N(0, s^2/d I_d): the paper's definition; has a small component on the features.
  orthogonal  xi ~ N(0, s^2/(d-2k) I) on the d-2k coordinates off the feature span.
  limit       the exact d -> infinity limit of `orthogonal`: every patch's noise has norm s and is
              orthogonal to the features and to every other patch's noise. X then holds only the 2k
              feature coordinates; the model keeps one weight per training (sample, patch) noise
              direction (`noise_rows`), and fresh test noise meets only the untouched init.

Patch layouts of the off-class features (`dark_layout`):
  own     Def. 3.1: every present feature occupies its own patches (each view of the class C_p, an
          off-class feature dark_patches), all disjoint; an off-class feature that finds no free
          patch is left out. A patch carries at most one feature.
  shared  each present off-class feature is added to dark_patches distinct patches drawn uniformly
          among all P (independently per feature), on top of what they carry: the sample's own view
          patches, other off-class features' patches or noise-only ones. Off-class features take no
          patch slots, so every present one is kept. This breaks Def. 3.1 twice: features no longer
          have patches of their own, and the map patch -> feature is no longer a function. The
          variant exists because it opens a distillation channel outside Def. 3.1: a filter that
          has learned a view is in its linear regime on that view's patches and takes full-strength
          gradient on any off-class feature sharing them, whereas on an off-class feature's own
          weak patches (own layout) it sits in the z^q regime and the gradient is tiny.
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch

from .activation import srelu
from .config import Choice, ConfigError, Int, Real, knob, validate_fields
from .seeding import generator


@dataclass(frozen=True)
class DataConfig:
    kind: str = knob("multiview", Choice(("multiview", "gaussian", "single_feature")),
                     "data family: multiview, or a control")
    k: int = knob(10, Int(2, 1000), "number of classes")
    noise: str = knob("limit", Choice(("limit", "orthogonal", "isotropic")), "patch noise model")
    d: int = knob(400, Int(2, 100_000), "patch dimension (finite-d noise models and gaussian)")
    noise_norm: float = knob(1.0, Real(0, 100), "s: norm of a patch's Gaussian noise (sigma_p = s/sqrt(d))")
    P: int = knob(12, Int(1, 10_000), "patches per sample")
    patches_per_feature: int = knob(2, Int(1, 1000), "C_p: patches each view of the sample's class occupies")
    dark_patches: int = knob(2, Int(1, 1000), "patches each off-class feature occupies (its total weight concentrated there)")
    dark_layout: str = knob("own", Choice(("own", "shared")), "off-class features on patches of their own (own, "
                            "Def. 3.1) or added to random patches, possibly a view's (shared; see the module doc)")
    mu: float = knob(0.1, Real(0, 1), "fraction of single-view samples")
    view_weight_min: float = knob(0.5, Real(0, 100), "per-patch weight of a class view: low end")
    view_weight_max: float = knob(1.0, Real(0, 100), "per-patch weight of a class view: high end")
    rho: float = knob(0.02, Real(0, 100), "total weight of the missing view in single-view samples")
    dark_prob: float = knob(0.3, Real(0, 1), "probability each off-class feature appears (s/k)")
    dark_weight_min: float = knob(0.0, Real(0, 100), "total weight of an off-class feature in multi-view samples: low end")
    dark_weight: float = knob(0.4, Real(0, 100), "total weight of an off-class feature in multi-view samples: high end (0 removes dark knowledge)")
    dark_weight_single: float = knob(0.05, Real(0, 100), "Gamma: total weight of an off-class feature in single-view samples")
    feature_noise: float = knob(0.0, Real(0, 1), "gamma: every patch gets U[0, gamma] on every feature")
    teacher_width: int = knob(1, Int(1, 1000), "gaussian control: filters per class of the random teacher")
    n_train: int = knob(500, Int(1, 10_000_000), "training samples")
    n_test: int = knob(2000, Int(1, 10_000_000), "test samples")

    def __post_init__(self):
        validate_fields(self)
        if self.view_weight_min > self.view_weight_max:
            raise ConfigError(f"view_weight_min={self.view_weight_min!r} is not allowed: must be <= view_weight_max={self.view_weight_max!r}")
        if self.dark_weight_min > self.dark_weight:
            raise ConfigError(f"dark_weight_min={self.dark_weight_min!r} is not allowed: must be <= dark_weight={self.dark_weight!r}")
        if self.kind != "gaussian" and self.P < 2 * self.patches_per_feature:
            raise ConfigError(f"P={self.P!r} is not allowed: must be >= 2 * patches_per_feature = "
                              f"{2 * self.patches_per_feature} (both views of a class need their own patches)")
        if self.kind != "gaussian" and self.dark_layout == "shared" and self.dark_patches > self.P:
            raise ConfigError(f"dark_patches={self.dark_patches!r} is not allowed: must be <= P={self.P!r} "
                              "(the shared layout puts an off-class feature on distinct patches)")
        if self.kind != "gaussian" and self.noise != "limit" and self.d < 2 * self.k + (self.noise == "orthogonal"):
            raise ConfigError(f"d={self.d!r} is not allowed: must be > 2 * k = {2 * self.k} to hold the features"
                              f"{' and noise off their span' if self.noise == 'orthogonal' else ''}")

    @property
    def n_features(self) -> int:
        return 0 if self.kind == "gaussian" else 2 * self.k

    @property
    def limit(self) -> bool:
        return self.kind != "gaussian" and self.noise == "limit"


@dataclass
class Dataset:
    """One split. Shapes: N samples, P patches, D = d (dense) or 2k (limit), F = 2k features.

    X: (N, P, D) patches; in the limit only their feature coordinates (noise is implicit).
    y: (N,) labels.
    single_view: (N,) bool; view: (N,) long, the strong view of a single-view sample, -1 otherwise.
    feature_weight: (N, F) total weight sum_p z_p of each feature in the sample (0 if absent); the
        off-class entries are the dark knowledge.
    patch_feature: (N, P) long, the feature a patch carries, -1 for noise-only patches. In the shared
        layout a patch may carry several: it holds the sample's own view if the patch carries one,
        else the off-class feature with the largest weight there (-1 if none).
    noise_rows: (N,) rows of the model's noise table (limit, training split), or None: fresh noise.
    noise_norm: s, the norm of each patch's implicit noise in the limit.
    """
    X: torch.Tensor
    y: torch.Tensor
    single_view: torch.Tensor
    view: torch.Tensor
    feature_weight: torch.Tensor
    patch_feature: torch.Tensor
    noise_rows: torch.Tensor | None = None
    noise_norm: float = 0.0

    def __len__(self) -> int:
        return len(self.y)

    @staticmethod
    def without_views(X: torch.Tensor, y: torch.Tensor) -> "Dataset":
        """Data with no known features (the Gaussian control, real digits): no sample is single-view."""
        n, P = X.shape[:2]
        return Dataset(X, y, torch.zeros(n, dtype=torch.bool), torch.full((n,), -1), torch.zeros(n, 0),
                       torch.full((n, P), -1))

    def map(self, fn) -> "Dataset":
        """Every per-sample tensor through fn (a missing noise_rows stays None)."""
        return replace(self, **{f.name: fn(getattr(self, f.name)) for f in fields(self)
                                if isinstance(getattr(self, f.name), torch.Tensor)})

    def subset(self, idx: torch.Tensor) -> "Dataset":
        return self.map(lambda t: t[idx])

    def to(self, device) -> "Dataset":
        return self.map(lambda t: t.to(device))


def drop_views(ds: Dataset, p: float, gen: torch.Generator) -> Dataset:
    """Augmentation: each multi-view sample, with probability p, loses one of its two views (chosen at
    random): that view's coordinate on its patches is zeroed; noise and whatever else the patches
    carry (feature noise, off-class features sharing them in the shared layout) stay. The model then
    meets 'single-view' versions of its training data, as random crops would show it."""
    n, F = len(ds), ds.feature_weight.shape[1]
    if F == 0:
        return ds
    hit = (torch.rand(n, generator=gen) < p).to(ds.X.device) & ~ds.single_view
    view = torch.randint(2, (n,), generator=gen).to(ds.X.device)
    dropped = 2 * ds.y + view                                                       # (n,) feature
    drop = hit[:, None] & (ds.patch_feature == dropped[:, None])                   # (n, P)
    X = ds.X.clone()
    X[..., :F] *= ~(drop[..., None] & (torch.arange(F, device=X.device) == dropped[:, None, None]))
    return replace(ds, X=X)


def generate(cfg: DataConfig, seed: int) -> tuple[Dataset, Dataset]:
    """(train, test) drawn from one seed; train and test share features (and the gaussian teacher)."""
    if cfg.kind == "gaussian":
        return _gaussian(cfg, generator(seed, 0))
    gen = generator(seed, 1)
    train = _features(cfg, cfg.n_train, gen)
    test = _features(cfg, cfg.n_test, gen)
    for split in (train, test):
        _add_noise(cfg, split, gen)
    if cfg.limit:
        train.noise_rows = torch.arange(cfg.n_train)
    return train, test


def _features(cfg: DataConfig, n: int, gen: torch.Generator) -> Dataset:
    """Feature part of each patch, following Def. 3.1 step by step (vectorised over samples); the
    shared layout departs from it only in where the off-class features go (`_share`)."""
    k, F, P, cp = cfg.k, 2 * cfg.k, cfg.P, cfg.patches_per_feature
    rand = lambda *shape: torch.rand(*shape, generator=gen)  # noqa: E731
    y = torch.randint(k, (n,), generator=gen)
    own = torch.zeros(n, F, dtype=torch.bool)
    own[torch.arange(n), 2 * y] = own[torch.arange(n), 2 * y + 1] = True
    single = rand(n) < cfg.mu if cfg.kind == "multiview" else torch.zeros(n, dtype=torch.bool)
    strong = torch.where(single, torch.randint(2, (n,), generator=gen), -1)

    # Total weight of each feature: off-class features with probability dark_prob.
    dark = (rand(n, F) < cfg.dark_prob) & ~own
    if cfg.kind == "single_feature":  # one view per class: the second views never appear
        dark[:, 1::2] = False
    dark_w = torch.where(single[:, None], torch.full((n, F), cfg.dark_weight_single),
                         cfg.dark_weight_min + (cfg.dark_weight - cfg.dark_weight_min) * rand(n, F))
    weight = torch.where(dark, dark_w, 0.0)
    present = dark.clone()
    view_present = torch.ones(n, 2, dtype=torch.bool)
    if cfg.kind == "single_feature":
        view_present[:, 1] = False
    weak = torch.zeros(n, 2, dtype=torch.bool)
    weak[single, 1 - strong[single]] = True
    view_present &= ~weak | (cfg.rho > 0)
    for l in range(2):
        present[torch.arange(n), 2 * y + l] = view_present[:, l]

    # Patches: own views first (C_p each), then off-class features in random order (dark_patches
    # each) while patches remain; every present feature gets its own patches. In the shared layout
    # only the own views take slots; the off-class features are added afterwards (_share).
    slots = present if cfg.dark_layout == "own" else present & own     # features that take patches
    key = torch.where(slots, rand(n, F), torch.inf)
    key[own & present] = -1.0                                             # absent weak view sorts last
    order = key.argsort(dim=1)                                             # (n, F) features by slot
    need = torch.where(own, cp, cfg.dark_patches) * slots              # patches each feature needs
    cum = torch.gather(need, 1, order).cumsum(1)                           # patches used up to slot i
    kept_sorted = torch.gather(slots, 1, order) & (cum <= P)
    kept = torch.zeros_like(present).scatter_(1, order, kept_sorted)       # features that found room
    weight = torch.where(kept | (present & ~slots), weight, 0.0)            # shared: all kept
    ends = torch.where(kept_sorted, cum, P + 1)                            # first patch after slot i
    slot = torch.searchsorted(ends, torch.arange(P).expand(n, P).contiguous(), right=True)
    slot_feature = torch.where(slot < F, torch.gather(order, 1, slot.clamp(max=F - 1)), -1)
    slot_feature = torch.where(torch.gather(kept_sorted, 1, slot.clamp(max=F - 1)) & (slot < F), slot_feature, -1)
    perm = rand(n, P).argsort(dim=1)                                       # random patch positions
    patch_feature = torch.full((n, P), -1, dtype=torch.long).scatter_(1, perm, slot_feature)

    # Per-patch weights z_p: class views U[min, max] each patch; the weak view splits rho over its
    # C_p patches, an off-class feature its total weight over its dark_patches patches.
    X = torch.zeros(n, P, F)
    has = patch_feature >= 0
    f = patch_feature.clamp(min=0)
    per_patch = torch.gather(weight, 1, f) / cfg.dark_patches
    is_view = has & (f // 2 == y[:, None])
    view_l = f % 2
    is_weak = is_view & single[:, None] & (view_l != strong[:, None])
    lo, hi = cfg.view_weight_min, cfg.view_weight_max
    z = torch.where(is_view, lo + (hi - lo) * rand(n, P), per_patch)
    z = torch.where(is_weak, cfg.rho / cp, z)
    z = torch.where(has, z, 0.0)
    X.scatter_(2, f[:, :, None], z[:, :, None])
    total = torch.zeros(n, F).scatter_add_(1, f, z)
    if cfg.dark_layout == "shared":
        total += _share(X, patch_feature, torch.where(dark, weight, 0.0), cfg.dark_patches, gen)
    if cfg.feature_noise > 0:
        X += cfg.feature_noise * rand(n, P, F)
    return Dataset(X, y, single, strong, total, patch_feature)


def _share(X: torch.Tensor, patch_feature: torch.Tensor, weight: torch.Tensor, dark_patches: int,
           gen: torch.Generator) -> torch.Tensor:
    """The shared layout, in place: each off-class feature's total weight (weight: (n, F), 0 where
    absent) split evenly over dark_patches distinct patches drawn uniformly among all P and added to
    X (n, P, F); noise-only patches that receive one take the heaviest as their patch_feature (n, P).
    Returns the weight placed per feature (n, F)."""
    n, P, F = X.shape
    where = torch.rand(n, F, P, generator=gen).argsort(dim=2)[..., :dark_patches]  # (n, F, dark_patches)
    share = (weight / dark_patches)[..., None].expand(n, F, dark_patches)
    added = torch.zeros(n, F, P).scatter_(2, where, share).transpose(1, 2)  # (n, P, F)
    X += added
    heaviest = added.max(dim=2)
    free = (patch_feature < 0) & (heaviest.values > 0)
    patch_feature[free] = heaviest.indices[free]
    return added.sum(1)


def _add_noise(cfg: DataConfig, ds: Dataset, gen: torch.Generator) -> None:
    n, P, F = ds.X.shape
    if cfg.noise == "limit":
        ds.noise_norm = cfg.noise_norm
        return
    if cfg.noise == "isotropic":
        xi = torch.randn(n, P, cfg.d, generator=gen) * (cfg.noise_norm / cfg.d ** 0.5)
        xi[:, :, :F] += ds.X
    else:
        xi = torch.randn(n, P, cfg.d, generator=gen) * (cfg.noise_norm / (cfg.d - F) ** 0.5)
        xi[:, :, :F] = ds.X
    ds.X = xi


def _gaussian(cfg: DataConfig, gen: torch.Generator) -> tuple[Dataset, Dataset]:
    """Control: Gaussian patches, labels from a random network of the learner's form."""
    k, P, d = cfg.k, cfg.P, cfg.d
    teacher = torch.randn(k, cfg.teacher_width, d, generator=gen)

    def split(n):
        X = torch.randn(n, P, d, generator=gen) * (cfg.noise_norm / d ** 0.5)
        z = torch.einsum("npd,cmd->npcm", X, teacher)
        y = srelu(z, 4, 0.1).sum(dim=(1, 3)).argmax(dim=1)
        return Dataset.without_views(X, y)

    return split(cfg.n_train), split(cfg.n_test)

"""Figures, one function per kind. Each reads tidy tables (never training state) and writes PNG + PDF."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from .io import atomic_write  # noqa: E402
from .measure import LEARNED_PHI  # noqa: E402

VIEW_COLORS = ("#1f77b4", "#d62728")


def save(fig, path: Path) -> list[Path]:
    """Write path.png and path.pdf atomically; returns both paths."""
    paths = [Path(path).with_suffix(ext) for ext in (".png", ".pdf")]
    for p in paths:
        atomic_write(p, lambda tmp, p=p: fig.savefig(tmp, dpi=150, bbox_inches="tight", format=p.suffix[1:]))
    plt.close(fig)
    return paths


def views_heatmap(views: pd.DataFrame, path: Path, repeat: int = 0) -> list[Path]:
    """Models x (class, view) grid of log10 Phi, learned views outlined: the lottery's outcome."""
    v = views[views.repeat == repeat]
    K, k = v.model.nunique(), v["class"].nunique()
    grid = v.pivot_table(index="model", columns=["class", "view"], values="phi").to_numpy()
    lrn = v.pivot_table(index="model", columns=["class", "view"], values="learned").to_numpy()
    fig, ax = plt.subplots(figsize=(0.42 * 2 * k + 1.5, 0.35 * K + 1.4))
    im = ax.imshow(np.log10(np.clip(grid, 1e-4, None)), cmap="magma", aspect="auto", vmin=-4)
    rows, cols = np.nonzero(lrn)
    ax.scatter(cols, rows, marker="o", s=18, c="#2ca02c", edgecolors="white", linewidths=0.6)
    for c in range(1, k):
        ax.axvline(2 * c - 0.5, color="white", lw=1.5)
    ax.set_xticks(range(2 * k), [f"{c}.{l}" for c in range(k) for l in range(2)], fontsize=7)
    ax.set_yticks(range(K))
    ax.set_xlabel("class.view  (green dot: learned, Phi >= %g)" % LEARNED_PHI)
    ax.set_ylabel("model (seed)")
    ax.set_title(f"Which views each seed learned (repeat {repeat})")
    fig.colorbar(im, ax=ax, label="log10 Phi_{j,l} = log10 max_r <w_{j,r}, v_{j,l}>")
    return save(fig, path)


def phi_trajectories(hist: pd.DataFrame, path: Path, repeat: int = 0, models=(0, 1, 2),
                     classes=(0, 1, 2, 3)) -> list[Path]:
    """Phi_{j,0}(t) and Phi_{j,1}(t) per (model, class): each seed's winner takes off, the loser stays."""
    h = hist[hist.repeat == repeat]
    models = [m for m in models if m in set(h.model)]
    fig, axes = plt.subplots(len(models), len(classes), figsize=(2.6 * len(classes), 2.0 * len(models)),
                             sharex=True, sharey=True, squeeze=False)
    for a, m in enumerate(models):
        for b, c in enumerate(classes):
            ax = axes[a, b]
            for l in range(2):
                s = h[(h.model == m) & (h["class"] == c) & (h.view == l)]
                ax.plot(s.step, s.phi, color=VIEW_COLORS[l], label=f"view {l}")
            ax.axhline(LEARNED_PHI, color="gray", ls=":", lw=1)
            ax.set_yscale("log")
            if a == 0:
                ax.set_title(f"class {c}")
            if b == 0:
                ax.set_ylabel(f"model {m}\nPhi")
            if a == len(models) - 1:
                ax.set_xlabel("GD step")
    axes[0, 0].legend(fontsize=7, loc="upper left")
    fig.suptitle("The view lottery: Phi_{j,l}(t) = max_r <w_{j,r}, v_{j,l}> (dotted: learned threshold)")
    fig.tight_layout()
    return save(fig, path)

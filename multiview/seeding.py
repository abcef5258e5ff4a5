"""Every random draw flows from one master seed: `generator(seed, *tags)` derives an independent,
reproducible stream for each purpose (data of repeat r, init of model group g, ...)."""
import numpy as np
import torch


def derive(seed: int, *tags: int) -> int:
    return int(np.random.SeedSequence([seed, *tags]).generate_state(1, dtype=np.uint64)[0] >> 1)


def generator(seed: int, *tags: int) -> torch.Generator:
    return torch.Generator().manual_seed(derive(seed, *tags))

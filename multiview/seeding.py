"""Every random draw flows from one master seed: `derive(seed, *tags)` gives an independent,
reproducible stream for each purpose, and the tags of one repeat r are named here.

- derive(seed, r, DATA): repeat r's data (train and test).
- derive(seed, r, 1 + g): the init of model group g (`model_seed`); the baselines append their
  family's index, so each family's models are independent draws.
- derive(seed, r, tag) for the other streams of a repeat (SHUFFLE, PERMUTE).

The pairing rule: models of the same group in the same repeat start from the same init. Students of
different methods in one group are therefore paired (they differ only in what they were trained on),
and a group of its own makes an independent draw. Every method's group is named in `Group`.
"""
from enum import IntEnum

import numpy as np
import torch

DATA = 0      # tag of a repeat's data
PERMUTE = 9   # kd_channels' permutation of non-target probabilities
SHUFFLE = 99  # member orderings (ensemble size), the random teacher of each step


class Group(IntEnum):
    """Model groups: the init of group g in repeat r is derive(seed, r, 1 + g)."""
    TEACHERS = 0        # the singles: teachers of every distillation method
    KD = 1              # KD students; every mechanism variant too (paired with each other)
    SELF_DISTILL = 2    # self-distilled students
    AVERAGE = 3         # the trained average's sub-networks
    LABEL_CONTROL = 4   # students on the hard labels with the distillation optimiser
    ENSEMBLE_WAYS = 10  # students of teacher ensembles combined four ways (paired across ways)
    MUTUAL = 20         # peers of online distillation
    HINTS = 30          # FitNets students, paired with the KD students they are compared to
    ASSISTANT = 41      # students of a teacher assistant
    SMOOTHED = 50       # networks trained on label-smoothed targets
    ADAPTIVE = 51       # networks trained on per-class adaptive smoothing
    BORN_AGAIN = 100    # generation g of a born-again chain is BORN_AGAIN + g


def derive(seed: int, *tags: int) -> int:
    return int(np.random.SeedSequence([seed, *tags]).generate_state(1, dtype=np.uint64)[0] >> 1)


def model_seed(seed: int, repeat: int, group: int, *family: int) -> int:
    """The init seed of model group `group` in `repeat` (family: a baseline's index, appended)."""
    return derive(seed, repeat, 1 + group, *family)


def generator(seed: int, *tags: int) -> torch.Generator:
    return torch.Generator().manual_seed(derive(seed, *tags))

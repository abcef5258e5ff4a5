import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# sims run by the tests keep their cache in a throwaway folder, never the user's
import os  # noqa: E402
import tempfile  # noqa: E402

os.environ["MULTIVIEW_CACHE"] = tempfile.mkdtemp(prefix="multiview-test-cache-")
# test configs are tiny: one thread each (also in the sims they start) is fastest and cannot
# oversubscribe a shared machine, where spinning threads slowed the tiny headline 18x
os.environ["OMP_NUM_THREADS"] = "1"
torch.set_num_threads(1)

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
torch.set_num_threads(2)

# sims run by the tests keep their cache in a throwaway folder, never the user's
import os  # noqa: E402
import tempfile  # noqa: E402

os.environ["MULTIVIEW_CACHE"] = tempfile.mkdtemp(prefix="multiview-test-cache-")

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import speed  # noqa: E402


def test_speed_targets_flag_each_miss_with_its_size():
    walls = pd.DataFrame({"figure": ["a", "b"], "wall_time_s": [600.0, 900.0]})  # 25 min
    t = speed.targets({"step_vs_matmul": 0.7, "step_vs_best": 0.6}, {"limit_speedup": 9.0},
                      pd.DataFrame({"batched_vs_loop": [1.2, 0.9]}),
                      {"headline": {"wall_s": 170.0, "peak_all_processes_MiB": 100.0}}, walls).set_index("target")
    assert t.met.tolist() == [False, True, True, False, True, True, False]
    assert t["missed by"].iloc[0] == "0.1" and t["missed by"].iloc[3] == "0.1"
    assert t["missed by"].iloc[-1].startswith("5;") and "b 900 s" in t["missed by"].iloc[-1]
    assert (t["missed by"][t.met] == "").all()

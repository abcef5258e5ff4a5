"""How fast is a training step, against the machine's own matmul? Prints figures; asserts nothing.

    python benchmarks/speed.py --quick   # under a minute: the default step only
    python benchmarks/speed.py           # + the exact limit vs dense path, the scaling table, and the wall
                                         #   time and peak memory of the headline and of `make figures`

A step is one iteration of `train.fit` (forward, loss, backward, normalised update) for K models
batched. Its FLOPs are those of the patch-filter products: forward <w, x_p> for every model, sample,
patch and filter (2 K N P D k m) and the backward's gradient for W (the same again), so
GFLOP/s = 4 K N P D k m / step time. 'same-shape matmul' times a plain torch.matmul doing the forward
product at the same shapes; 'best matmul' the fastest square float32 matmul measured in the same run.

Last line (quick and full): step_vs_matmul=R1 step_vs_best=R2 batched_vs_loop=R3
Full mode writes benchmarks/results/speed.csv and speed.md.
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pandas as pd
import torch

from multiview.data import DataConfig, generate
from multiview.model import ModelConfig, init
from multiview.train import TrainConfig, fit

ROOT = Path(__file__).resolve().parent.parent

# The dense (finite-d) step the targets refer to: defaults with d = 4000 explicit noise dimensions.
DENSE = DataConfig(noise="isotropic", d=4000, n_test=1)
LIMIT = DataConfig(n_test=1)  # the default: the exact d -> infinity path


def best_of(fn, repeats: int = 3, min_time: float = 0.2) -> float:
    """Seconds per call: the best of `repeats` timings, each averaging enough calls to last min_time."""
    fn()
    n, t = 1, 0.0
    while True:
        start = time.perf_counter()
        for _ in range(n):
            fn()
        t = time.perf_counter() - start
        if t >= min_time:
            break
        n *= 2
    best = t / n
    for _ in range(repeats - 1):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - start) / n)
    return best


def step_seconds(data: DataConfig, model: ModelConfig, K: int, steps: int = 6) -> float:
    """Seconds per training step, from fits of 1 and 1 + steps steps (set-up cost cancels)."""
    train, _ = generate(data, 0)
    params = init(model, K, data.k, train, seed=1)
    cfg = TrainConfig(n_models=K, fit_margin=1e6, log_every=10**7)  # never stops early

    def run(n):
        return lambda: fit(params, train, replace(cfg, max_steps=n), quiet=True)
    return max(best_of(run(1 + steps), 2, 0.0) - best_of(run(1), 2, 0.0), 1e-9) / steps


def step_flops(data: DataConfig, model: ModelConfig, K: int) -> float:
    D = data.d if data.noise != "limit" else 2 * data.k
    return 4.0 * K * data.n_train * data.P * D * data.k * model.m


def matmul_gflops(m: int, k: int, n: int, batch: int = 1) -> float:
    a, b = torch.randn(batch, m, k), torch.randn(batch, k, n)
    return 2.0 * batch * m * k * n / best_of(lambda: torch.matmul(a, b)) / 1e9


def best_matmul() -> float:
    return max(matmul_gflops(s, s, s) for s in (512, 1024, 2048, 3072))


def default_step(model=ModelConfig(), K: int = 10) -> dict:
    """The dense default step: GFLOP/s vs same-shape and best matmul, and batched vs a loop of K=1."""
    t = step_seconds(DENSE, model, K)
    gf = step_flops(DENSE, model, K) / t / 1e9
    NP, D, km = DENSE.n_train * DENSE.P, DENSE.d, DENSE.k * model.m
    same = matmul_gflops(NP, D, K * km)  # the forward product as the step computes it
    best = best_matmul()
    loop = K * step_seconds(DENSE, model, 1)
    return {"steps_per_s": 1 / t, "step_gflops": gf, "same_shape_matmul_gflops": same, "best_matmul_gflops": best,
            "step_vs_matmul": gf / same, "step_vs_best": gf / best, "loop_step_s": loop, "batched_step_s": t,
            "batched_vs_loop": loop / t}


def limit_vs_dense(K: int = 10) -> dict:
    """A whole K=10 training run on the default data: exact limit path vs dense d = 4000."""
    out = {}
    for name, data in (("limit", LIMIT), ("dense_d4000", DENSE)):
        train, _ = generate(data, 0)
        params = init(ModelConfig(), K, data.k, train, seed=1)
        start = time.perf_counter()
        _, hist = fit(params, train, TrainConfig(n_models=K), quiet=True)
        out[f"{name}_train_s"] = time.perf_counter() - start
        out[f"{name}_steps"] = hist.stopped_at.float().mean().item()
    out["limit_speedup"] = out["dense_d4000_train_s"] / out["limit_train_s"]
    return out


def scaling(model=ModelConfig(), K: int = 10) -> pd.DataFrame:
    """Step time as each of k, d, P, N, K doubles from a dense base (d = 1000) and for the limit path."""
    base = replace(DENSE, d=1000)
    rows = []
    for path, data in (("dense", base), ("limit", LIMIT)):
        variants = [("base", data, K), ("2k", replace(data, k=2 * data.k), K), ("2P", replace(data, P=2 * data.P), K),
                    ("2N", replace(data, n_train=2 * data.n_train), K), ("2K", data, 2 * K)]
        if path == "dense":
            variants.insert(1, ("2d", replace(data, d=2 * data.d), K))
        for name, d, k_models in variants:
            batched = step_seconds(d, model, k_models, steps=6)
            loop = k_models * step_seconds(d, model, 1, steps=6)
            D = d.d if d.noise != "limit" else 2 * d.k
            z_mb = 4 * k_models * d.n_train * d.P * d.k * model.m / 2**20
            rows.append({"path": path, "change": name, "k": d.k, "D": D, "P": d.P, "N": d.n_train, "K": k_models,
                         "step_ms": 1e3 * batched, "loop_ms": 1e3 * loop, "batched_vs_loop": loop / batched,
                         "gflops": step_flops(d, model, k_models) / batched / 1e9,
                         "X_MB": 4 * d.n_train * d.P * D / 2**20, "activations_MB": z_mb})
    return pd.DataFrame(rows)


def figure_walls() -> pd.DataFrame:
    """Each figure folder's recorded wall time (config.json), when that run computed its repeats
    (a run served from the cache records only its re-plotting time and is flagged)."""
    import json
    rows = []
    for cfg in sorted((ROOT / "figures").glob("*/config.json")):
        c = json.loads(cfg.read_text())
        cached = c.get("cache", {}).get("units_cached", c.get("cache", {}).get("repeats_cached", 0))
        rows.append({"figure": cfg.parent.name, "wall_time_s": c["wall_time_s"], "from_cache": cached > 0})
    return pd.DataFrame(rows)


def targets(s: dict, lim: dict, table: pd.DataFrame, costs: dict, walls: pd.DataFrame) -> pd.DataFrame:
    """Each speed target against what this run measured; a missed one says by how much (and, for the
    figures, where the time goes)."""
    head = next(iter(costs.values()))
    fig_min = walls.wall_time_s.sum() / 60
    top = ", ".join(f"{r.figure} {r.wall_time_s:.0f} s" for r in walls.nlargest(3, "wall_time_s").itertuples())
    rows = [("dense step vs same-shape matmul", ">=", 0.8, s["step_vs_matmul"], ""),
            ("dense step vs best matmul", ">=", 0.5, s["step_vs_best"], ""),
            ("exact limit vs dense d = 4000 (K = 10 training), x", ">=", 8, lim["limit_speedup"], ""),
            ("batched K vs loop, worst shape of the scaling table", ">", 1, table.batched_vs_loop.min(), ""),
            ("headline wall time (s)", "<", 180, head["wall_s"], ""),
            ("headline peak memory, all processes (MiB)", "<", 2048, head["peak_all_processes_MiB"], ""),
            ("every figure from scratch (min, sum of recorded times)", "<", 20, fig_min,
             "; many small-model distillation phases of 2000 steps; largest: " + top)]
    out = []
    for name, op, want, got, why in rows:
        met = {">=": got >= want, ">": got > want, "<": got < want}[op]
        out.append({"target": name, "wanted": f"{op} {want}", "measured": round(got, 3), "met": met,
                    "missed by": "" if met else f"{abs(got - want):.3g}{why}"})
    return pd.DataFrame(out)


def markdown(df: pd.DataFrame) -> list[str]:
    return ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)] + [
        "| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants (Linux /proc), MiB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(next(x for x in Path(f"/proc/{p}/status").read_text().splitlines()
                              if x.startswith("VmRSS:")).split()[1])
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, StopIteration):  # the process ended meanwhile
            pass
    return total / 1024


def command_cost(cmd: list[str]) -> dict:
    """Wall time and peak resident memory of a command: of all its processes together (sampled every
    0.2 s; Linux), and of its largest single process."""
    start = time.perf_counter()
    proc, peak = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL), 0.0
    while proc.poll() is None:
        if Path("/proc").exists():
            peak = max(peak, tree_rss_mib(proc.pid))
        time.sleep(0.2)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    largest = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB (Linux)
    return {"wall_s": time.perf_counter() - start, "peak_all_processes_MiB": peak, "peak_largest_process_MiB": largest}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the default step only (under a minute)")
    parser.add_argument("--headline", default="", metavar="'KEY=VALUE ...'",
                        help="overrides for the timed headline run (default: none, the default config)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    s = default_step()
    print("default dense step (K=10, k=10, m=8, P=12, N=500, d=4000):")
    for key, v in s.items():
        print(f"  {key:26s} {v:10.3f}")
    if not args.quick:
        out = ROOT / "benchmarks" / "results"
        out.mkdir(parents=True, exist_ok=True)
        lim = limit_vs_dense()
        print("whole K=10 training, exact limit vs dense d=4000:", {k: round(v, 2) for k, v in lim.items()})
        table = scaling()
        print(table.round(2).to_string(index=False))
        py = sys.executable
        name = "headline (sims/ensemble_vs_ntk.py " + (args.headline or "defaults") + ")"
        runs = {name: [py, "sims/ensemble_vs_ntk.py", "--quiet", "--no-cache", "--out", "/tmp/mv_bench_headline",
                       *args.headline.split()]}
        costs = {name: command_cost(cmd) for name, cmd in runs.items()}
        for name, c in costs.items():
            print(f"{name}: {c['wall_s']:.0f} s, peak {c['peak_all_processes_MiB']:.0f} MiB (all processes), "
                  f"{c['peak_largest_process_MiB']:.0f} MiB (largest)")
        walls = figure_walls()
        print(walls.to_string(index=False))
        print(f"figure regeneration, sum of the recorded compute times: {walls.wall_time_s.sum() / 60:.1f} min")
        rows = [{"figure": k, "value": v} for k, v in {**s, **lim}.items()]
        rows.append({"figure": "figures: sum of recorded compute wall times (s)", "value": walls.wall_time_s.sum()})
        rows += [{"figure": f"{n}: {k}", "value": v} for n, c in costs.items() for k, v in c.items()]
        pd.DataFrame(rows).to_csv(out / "speed.csv", index=False)
        table.to_csv(out / "scaling.csv", index=False)
        md = ["# Speed (benchmarks/speed.py)", "", f"torch {torch.__version__}, {torch.get_num_threads()} threads", "",
              "| figure | value |", "|---|---|"] + [f"| {r['figure']} | {r['value']:.3f} |" for r in rows]
        goals = targets(s, lim, table, costs, walls)
        print(goals.to_string(index=False))
        md += ["", "## Targets", "", *markdown(goals)]
        md += ["", "## Step time as each size doubles", "", *markdown(table.round(2))]
        (out / "speed.md").write_text("\n".join(md) + "\n")
    print(f"step_vs_matmul={s['step_vs_matmul']:.2f} step_vs_best={s['step_vs_best']:.2f} "
          f"batched_vs_loop={s['batched_vs_loop']:.2f}")


if __name__ == "__main__":
    main()

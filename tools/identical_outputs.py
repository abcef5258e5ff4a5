"""Every sim on a tiny config, and a manifest of what it wrote: a refactor must leave it unchanged.

    python tools/identical_outputs.py --save before.json      # on the old code
    python tools/identical_outputs.py --compare before.json   # on the new code: exit 1 if any table differs

Each sim runs with one thread, no cache and fixed seeds, so its CSVs are a function of the code's
arithmetic alone; the manifest holds each CSV's sha256 (figures and config.json carry timings and are
left out). A table the old code did not write is listed as new, not as a difference. Only keys every config version accepts are used (data, model, train, distill, repeats).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NET = ["data.k=3", "data.n_train=60", "data.n_test=120", "data.P=8", "train.n_models=3", "repeats=2",
       "train.max_steps=200"]
KD = NET + ["distill.steps=30", "distill.n_students=2"]
SIMS = {
    "views_per_seed": NET,
    "ensemble_vs_ntk": KD + ["control.k=3", "control.n_train=60", "control.n_test=60"],
    "ensemble_size": NET + ["train.n_models=4"],
    "self_distillation": KD,
    "view_dropout": KD,
    "dark_knowledge": KD,
    "kd_regime": KD + ["repeats=1"],
    "baseline_width": KD + ["repeats=1"],
    "real_digits": ["train.n_models=2", "repeats=1", "train.max_steps=100", "distill.steps=20",
                    "distill.n_students=1", "data.n_train=200"],
    "teacher_ensembles": KD,
    "online_kd": KD,
    "hints": KD,
    "capacity_gap": KD,
    "calibration": KD,
    "label_refinery": KD,
    "kd_channels": KD + ["train.log_every=1"],
    "paper_update": KD + ["distill.paper_steps=30"],
    "patch_layout": KD,
    "sweep": NET + ["--grid", "data.mu=0.1,0.2", "--jobs", "1"],
}


def run(name: str, args: list[str], out: Path) -> dict[str, str]:
    """Run sims/NAME.py into out; sha256 of every CSV it wrote, by relative path."""
    jobs = [] if "--jobs" in args else ["--jobs", "1"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    res = subprocess.run([sys.executable, str(ROOT / "sims" / f"{name}.py"), "--quiet", "--no-cache", "--device",
                          "cpu", "--out", str(out), *jobs, *args], capture_output=True, text=True, cwd=ROOT, env=env)
    if res.returncode:
        return {"error": res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit {res.returncode}"}
    return {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(out.rglob("*.csv")) if "points" not in p.parts}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--save", help="write the manifest here")
    group.add_argument("--compare", help="compare with this manifest")
    parser.add_argument("sims", nargs="*", help=f"which sims (default all: {', '.join(SIMS)})")
    args = parser.parse_args()
    names = args.sims or list(SIMS)
    manifest = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            manifest[name] = run(name, SIMS[name], Path(tmp) / name)
            print(f"{name}: {len(manifest[name])} tables", flush=True)
    if args.save:
        Path(args.save).write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
        return
    old = json.loads(Path(args.compare).read_text())
    bad = 0
    for name in names:
        for table in sorted(set(old.get(name, {})) | set(manifest[name])):
            a, b = old.get(name, {}).get(table), manifest[name].get(table)
            if a is None and table != "error":
                print(f"new table {name}/{table}")  # an added output changes no earlier number
            elif a != b:
                bad += 1
                print(f"DIFFERS {name}/{table}: {a} -> {b}")
    print("identical" if not bad else f"{bad} tables differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

"""Do the tests bite? Each mutant is one deliberate bug in a copy of the package; the tests that
guard that code must fail on it. Prints one line per mutant (caught / MISSED) and exits 1 if any
is missed. Not part of the suite (it reruns tests once per mutant, a few minutes in all):

    .venv/bin/python tests/mutants.py            # every mutant
    .venv/bin/python tests/mutants.py kd_sum     # those whose name contains kd_sum
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STEP, KD, AVG = "tests/test_losses_and_step.py", "tests/test_losses_and_step.py", "tests/test_losses_and_step.py"
CACHE = "tests/test_cache_and_resume.py"

# name: (file, code as written, the bug, tests that must fail)
MUTANTS = {
    "step_sign_flip": ("multiview/train.py", "value=-1.0)", "value=1.0)", [STEP, "-k", "normalised_step"]),
    "step_no_clamp": ("multiview/train.py", ".clamp(cfg.lr_min, cfg.lr_max) * active", " * active",
                      [STEP, "-k", "normalised_step"]),
    "step_shared_ignored": ("multiview/train.py", "        if shared:\n", "        if False:\n",
                            [STEP, "-k", "shared"]),
    "step_class_norm_w_only": ("multiview/train.py", "rates = [rate(sum(block_sq(t, dim) for t, dim in pairs))]",
                               "rates = [rate(block_sq(*pairs[0]))]", [STEP, "-k", "normalised_step"]),
    "kd_sum_over_samples": ("multiview/methods.py", "soft = (pt * (lt - logp_s)).sum(1).mean(-1)",
                            "soft = (pt * (lt - logp_s)).sum(1).sum(-1)", [KD, "-k", "kd_loss"]),
    "kd_T_instead_of_T2": ("multiview/methods.py", "total = alpha * T * T * soft", "total = alpha * T * soft",
                           [KD, "-k", "kd_loss"]),
    "kd_sub_batch_ignored": ("multiview/methods.py", "(p_t[..., idx], logp_t[..., idx])",
                             "(p_t[..., :len(idx)], logp_t[..., :len(idx)])", [KD, "-k", "sub_batch"]),
    "kd_one_sided_no_detach": ("multiview/methods.py", "torch.relu(pt - logp_s.exp()).detach()",
                               "torch.relu(pt - logp_s.exp())", [KD, "-k", "one_sided"]),
    "average_mean_as_sum": ("multiview/train.py",
                            'return F.mean(0, keepdim=True) if average == "mean" else F.sum(0, keepdim=True)',
                            "return F.sum(0, keepdim=True)", [AVG, "-k", "trained_average"]),
    "average_separate_shared": ("multiview/train.py", 'shared=average in ("sum", "mean"))',
                                "shared=average is not None)", [AVG, "-k", "trained_average"]),
    "ensemble_curve_shifted": ("multiview/measure.py", "running = F[orders].cumsum(1)", "running = F[orders].cumsum(1).roll(1, 1)",
                               ["tests/test_methods.py", "-k", "every_method"]),
    "checksum_removed": ("multiview/cache.py", "if hashlib.sha256(payload).hexdigest().encode() != digest:",
                         "if False:", [CACHE, "-k", "flipped"]),
    "key_without_seed": ("multiview/runner.py", '            conf.pop("repeats", None)\n',
                         '            conf.pop("repeats", None)\n            conf.pop("seed", None)\n',
                         [CACHE, "-k", "key_changes"]),
    "key_without_script": ("multiview/runner.py", "code = code_version(*filter(None, [script_file(unit)]))",
                           "code = code_version()", [CACHE, "-k", "key_changes"]),
    "key_without_package": ("multiview/cache.py", "for path in sorted(PACKAGE.glob(\"*.py\")) + [Path(f) for f in extra_files]:",
                            "for path in [Path(f) for f in extra_files]:", [CACHE, "-k", "key_changes"]),
    "store_saved_only_at_the_end": ("multiview/runner.py",
                                    "                self.store.save(key, tables)\n                done[key] = tables\n",
                                    "                done[key] = tables\n",
                                    [CACHE, "-k", "killed or diverges"]),
}


def run(name: str, mutant: tuple, python: str) -> bool:
    """True when the guarding tests fail on the mutant (the mutant is caught)."""
    path, good, bad, tests = mutant
    with tempfile.TemporaryDirectory(prefix=f"mutant-{name}-") as tmp:
        copy = Path(tmp) / "repo"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(".venv", ".git", "figures", "__pycache__"))
        source = (copy / path).read_text()
        if source.count(good) != 1:
            raise SystemExit(f"error: mutant {name}: {good!r} is not found once in {path}; update tests/mutants.py")
        (copy / path).write_text(source.replace(good, bad))
        # the copy's package first, also for the sims the tests start (the venv's install points at ROOT)
        env = {**os.environ, "PYTHONPATH": str(copy) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        res = subprocess.run([python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *tests], cwd=copy,
                             capture_output=True, text=True, env=env)
        if res.returncode == 5:
            raise SystemExit(f"error: mutant {name}: the selection {tests} runs no test")
        return res.returncode != 0


def main(argv: list[str]) -> int:
    chosen = {n: m for n, m in MUTANTS.items() if not argv or any(a in n for a in argv)}
    missed = []
    for name, mutant in chosen.items():
        caught = run(name, mutant, sys.executable)
        print(f"{'caught' if caught else 'MISSED'}  {name}  ({mutant[0]}; {' '.join(mutant[3])})", flush=True)
        if not caught:
            missed.append(name)
    print(f"{len(chosen) - len(missed)} of {len(chosen)} mutants caught")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

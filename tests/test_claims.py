"""The theory's claims: verdicts on hand-made tables, the re-check command, and the committed figures."""
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from multiview import predictions as P, predictions_literature as L
from multiview.claim import Bound, Claim, kept, z_score
from multiview.claims import CLAIMS, check, check_points, identify, lines, load

from conftest import TINY_3, TINY_HEADLINE

ROOT = Path(__file__).resolve().parent.parent


def headline_rows(single, ensemble, kd, repeats=2, models=3, family="nn", split="test_single"):
    """A results table with `models` singles and students per repeat at the given accuracies."""
    rows = []
    for r in range(repeats):
        for method, acc in (("single", single), ("ensemble", ensemble), ("kd", kd)):
            n = 1 if method == "ensemble" else models
            for m in range(n):
                rows.append({"model": m, "method": method, "family": family, "data": "multiview", "repeat": r,
                             "split": split, "accuracy": acc + 0.01 * (m - (n - 1) / 2)})  # spread, same mean
    return pd.DataFrame(rows)


def by_name(verdicts, name):
    return verdicts.set_index("claim").loc[name]


def test_kd_claim_holds_when_kd_keeps_most_of_the_gain():
    v = by_name(check(P.HEADLINE, {"results": headline_rows(0.5, 1.0, 0.9)}), "nn kd keeps the gain")
    assert v.holds is True and v.measured == pytest.approx(0.8) and v.needed == ">= 0.7"


def test_kd_claim_fails_when_kd_keeps_little():
    verdicts = check(P.HEADLINE, {"results": headline_rows(0.5, 1.0, 0.6)})
    v = by_name(verdicts, "nn kd keeps the gain")
    assert v.holds is False and v.measured == pytest.approx(0.2)
    assert any(line.startswith("FAILS nn kd keeps the gain: 0.200 (needs >= 0.7)") for line in lines(verdicts))


def test_claims_whose_rows_were_not_run_are_neither_held_nor_failed():
    verdicts = check(P.HEADLINE, {"results": headline_rows(0.5, 1.0, 0.9)})
    rf = by_name(verdicts, "rf ensemble gain")
    assert rf.holds is None and rf.note.startswith("not run") and math.isnan(rf.measured)
    assert lines(verdicts)[-1] == "2 of 13 claims hold, 0 fail, 11 not run"


def test_a_claim_on_noise_with_one_repeat_says_it_needs_more():
    rows = [{"model": m, "method": w, "n_teachers": 10, "repeat": 0, "split": "test_single", "accuracy": 0.9}
            for w in ("logits", "probs") for m in range(2)]
    v = by_name(check(L.TEACHER_ENSEMBLES, {"results": pd.DataFrame(rows)}), "logits and probabilities agree")
    assert v.holds is None and v.note == "needs 2 repeats, ran 1" and math.isnan(v.measured)


def test_computed_bound_is_shown_with_its_value():
    # self-distillation must gain >= 0.10 and stay below the ensemble's gain (0.5 here)
    res = headline_rows(0.5, 1.0, 0.9)
    sd = res[res.method == "single"].assign(method="self_distill", accuracy=lambda d: d.accuracy + 0.6)
    v = by_name(check(P.HEADLINE, {"results": pd.concat([res, sd])}), "nn self-distillation")
    assert v.holds is False and v.measured == pytest.approx(0.6)
    assert v.needed == ">= 0.1 and < 0.5 (the ensemble's gain)"


def test_helpers_kept_and_paired_z_score():
    assert kept(0.5, 1.0, 0.75) == pytest.approx(0.5)
    a, b = pd.Series([0.9, 0.8, 0.7]), pd.Series([0.8, 0.75, 0.55])  # differences 0.1, 0.05, 0.15
    assert z_score(a, b) == pytest.approx(0.1 / (0.05 / math.sqrt(3)))
    assert z_score(a, a) == 0.0 and z_score(a + 0.1, a) == math.inf
    with pytest.raises(ValueError):
        Bound("=>", 1.0)
    with pytest.raises(ValueError):
        Claim("x", "y", lambda t: 0.0, ())


def test_a_sweep_is_checked_point_by_point():
    res = pd.concat([headline_rows(0.5, 1.0, 0.9).assign(**{"data.mu": 0.1}),
                     headline_rows(0.5, 1.0, 0.55).assign(**{"data.mu": 0.3})])
    verdicts = check_points(res, ["data.mu"])
    kd = verdicts[verdicts.claim == "nn kd keeps the gain"].set_index("data.mu").holds
    assert kd.to_dict() == {0.1: True, 0.3: False}


def claims_cmd(*folders):
    return subprocess.run([sys.executable, "-m", "multiview.claims", *map(str, folders)], capture_output=True,
                          text=True, cwd=ROOT, timeout=120)


def test_recheck_of_the_headline_holds_and_fails_when_kd_learns_nothing(tmp_path):
    res = claims_cmd(ROOT / "figures" / "ensemble_vs_ntk")
    assert res.returncode == 0, res.stdout + res.stderr
    held = [line for line in res.stdout.splitlines() if line.startswith("holds ")]
    assert len(held) >= 13 and "13 of 13 claims hold, 0 fail" in res.stdout
    copy = tmp_path / "headline"
    shutil.copytree(ROOT / "figures" / "ensemble_vs_ntk", copy)
    df = pd.read_csv(copy / "results.csv")
    keys = ["family", "data", "repeat", "split"]
    singles = df[df.method == "single"].groupby(keys).accuracy.mean().rename("single_acc").reset_index()
    df = df.merge(singles, on=keys, how="left")
    df.loc[df.method == "kd", "accuracy"] = df.single_acc
    df.drop(columns="single_acc").to_csv(copy / "results.csv", index=False)
    res = claims_cmd(copy)
    assert res.returncode == 1
    assert "FAILS nn kd keeps the gain: 0.000" in res.stdout


def test_no_folder_at_all_is_one_line_and_exit_2():
    res = claims_cmd()
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "OUT_DIR" in res.stderr


@pytest.mark.parametrize("make", ["missing", "empty", "garbled"])
def test_a_folder_it_cannot_read_is_one_line_and_exit_2(tmp_path, make):
    folder = tmp_path / "out"
    if make != "missing":
        folder.mkdir()
        if make == "garbled":
            (folder / "results.csv").write_text('a,b\n"open quote\n')
    res = claims_cmd(folder)
    assert res.returncode == 2 and res.stdout == ""
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert str(folder) in res.stderr


FOLDERS = {"views_per_seed": "views_per_seed", "ensemble_vs_ntk": "ensemble_vs_ntk",
           "train_average_mean": "ensemble_vs_ntk", "sweep_mu": "sweep", "calibration_margin10": "calibration",
           **{name: name for name in ("ensemble_size", "self_distillation", "label_refinery", "dark_knowledge",
                                      "view_dropout", "kd_regime", "teacher_ensembles", "online_kd", "hints",
                                      "capacity_gap", "calibration", "baseline_width", "real_digits")}}


@pytest.mark.parametrize("folder, sim", FOLDERS.items())
def test_every_committed_figure_folder_is_recognised(folder, sim):
    found, tables, config = load(ROOT / "figures" / folder)
    assert found == sim and identify(tables, {k: v for k, v in config.items() if k != "sim"}) == sim


@pytest.mark.parametrize("folder, claim", [
    ("view_dropout", "dropout approaches the ensemble"),
    ("self_distillation", "later generations add as the law does"),
    ("teacher_ensembles", "random teacher per step in between"),
    ("online_kd", "peers teach each other, less than offline KD"),
    ("dark_knowledge", "kd needs dark knowledge"),
    ("capacity_gap", "no capacity gap from views"),
])
def test_predictions_the_sandbox_did_not_reproduce_report_fail(folder, claim):
    sim, tables, _ = load(ROOT / "figures" / folder)
    assert by_name(check(CLAIMS[sim], tables), claim).holds is False


TINY = TINY_3 + ["repeats=2"]
HEAD_TINY = TINY_HEADLINE + ["repeats=2", "--jobs", "1"]


@pytest.mark.parametrize("name, args, n_claims", [("views_per_seed", TINY, 7), ("ensemble_vs_ntk", HEAD_TINY, 13)])
def test_sims_print_their_verdicts_and_write_claims_csv(tmp_path, name, args, n_claims):
    out = tmp_path / name
    res = subprocess.run([sys.executable, str(ROOT / "sims" / f"{name}.py"), "--quiet", "--no-cache", "--out",
                          str(out), *args], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert res.returncode == 0, res.stderr
    written = pd.read_csv(out / "claims.csv")
    assert list(written.columns[:4]) == ["claim", "measured", "needed", "holds"] and len(written) == n_claims
    printed = res.stdout[res.stdout.index("claims of the theory"):].splitlines()[:n_claims + 2]
    again = claims_cmd(out)
    assert again.returncode == int((written.holds == False).any())  # noqa: E712
    assert again.stdout.splitlines() == printed  # the re-check says what the sim said


def test_sweep_summary_names_the_claims_failing_at_each_point(tmp_path):
    from multiview.sweep import claims_per_point, failing_by_value
    res = pd.concat([headline_rows(0.5, 1.0, 0.9).assign(**{"data.mu": 0.1}),
                     headline_rows(0.5, 0.6, 0.55).assign(**{"data.mu": 0.3})])
    points = claims_per_point(check_points(res, ["data.mu"]), ["data.mu"]).set_index("data.mu")
    assert points.loc[0.1, "claims_failed"] == 0 and points.loc[0.1, "failing"] == ""
    assert points.loc[0.3, "failing"] == "nn ensemble gain; nn kd keeps the gain"  # gain 0.1, kd keeps 0.5
    assert failing_by_value(points.reset_index(), "data.mu") == {0.3: ["nn ensemble gain", "nn kd keeps the gain"]}


def test_readme_and_notes_quote_exactly_what_the_committed_csvs_give():
    from multiview.tables import FILES, render
    for name in FILES:
        _, changed = render((ROOT / name).read_text(), ROOT / "figures")
        assert changed == [], f"{name}: blocks {changed} differ from figures/; run python -m multiview.tables"
    readme = (ROOT / "README.md").read_text()
    for block in ("headline_nn", "headline_prose", "methods", "claims"):
        assert f"<!-- measured: {block} " in readme


def test_a_number_edited_by_hand_is_caught():
    from multiview.tables import render
    readme = (ROOT / "README.md").read_text()
    row = "| 0.563 +- 0.023 | 1.000 +- 0.000 | 0.907 +- 0.013 |"
    assert row in readme
    _, changed = render(readme.replace(row, row.replace("0.907", "0.917")), ROOT / "figures")
    assert changed == ["headline_nn"]
    res = subprocess.run([sys.executable, "-m", "multiview.tables", "--check", "--figures", str(ROOT / "figures")],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert res.returncode == 0 and res.stdout == ""

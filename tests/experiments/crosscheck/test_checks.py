"""How a cross-check target is judged (experiments.crosscheck.checks): the published numbers,
verdicts, per-run measures and the statistics over seeds."""

from __future__ import annotations

import math

import pytest

from experiments.crosscheck import checks


def test_published_numbers_are_read_from_their_file_without_the_notes():
    numbers = checks.published()
    assert numbers and not any(key.startswith("_") for key in numbers)
    assert all({"value", "tag"} <= set(entry) for entry in numbers.values())
    key = next(iter(numbers))
    assert checks.published_value(key) == float(numbers[key]["value"])
    with pytest.raises(KeyError):
        checks.published_value("no such key")


def test_a_verdict_has_a_known_status():
    assert checks.Verdict("pass", "1 %").seeds == 0
    with pytest.raises(ValueError, match="^status 'ok' is not one of \\('pass', 'fail', "):
        checks.Verdict("ok", "1 %")
    assert checks.not_run("no data") == checks.Verdict("not run", "—", "no data")


def test_mean_and_sample_standard_deviation():
    assert checks.mean_std([2.0]) == (2.0, 0.0)
    mean, std = checks.mean_std([1.0, 2.0, 3.0])
    assert mean == 2.0 and std == pytest.approx(1.0)
    assert checks.spread([97.1]) == "97.10 % (1 seed)"
    assert checks.spread([1.0, 2.0, 3.0]) == "2.00 ± 1.00 % (3 seeds)"
    assert checks.spread([1.0, 3.0], " pp") == f"2.00 ± {math.sqrt(2):.2f} pp (2 seeds)"


def test_measures_read_the_last_epoch_or_the_best_one_in_percent():
    metrics = {"testAccuracy": [0.1, 0.9], "best": {"testAccuracy": 0.925}}
    assert checks.final_test(metrics) == pytest.approx(90.0)
    assert checks.best_val_test(metrics) == pytest.approx(92.5)
    with pytest.raises(checks.MeasureError, match="did not evaluate the test set at its last"):
        checks.final_test({"testAccuracy": [0.1, None]})
    with pytest.raises(checks.MeasureError, match="did not evaluate the test set at its last"):
        checks.final_test({})
    with pytest.raises(checks.MeasureError, match="at its best epoch"):
        checks.best_val_test({"best": {"testAccuracy": None}})


def test_within_judges_the_worst_seed_or_the_mean_of_three():
    assert checks.within([85.0, 86.0], 85.46, 1.5) == (
        True, "+0.54 pp from 85.46 (tolerance ±1.5 per seed)")
    ok, text = checks.within([83.0, 86.0], 85.46, 1.5)
    assert not ok and text.startswith("-2.46 pp")
    # Three seeds with a mean tolerance: one far seed is fine when the mean is close.
    assert checks.within([83.9, 86.0, 86.5], 85.46, 1.5, 1.0) == (
        True, "mean +0.01 pp from 85.46 (tolerance ±1.0)")
    assert not checks.within([83.9, 86.0], 85.46, 1.5, 1.0)[0]  # two seeds: per seed


def test_at_least_and_combine():
    assert checks.at_least([97.0, 96.5], 96.3) == (True, "lowest 96.50 ≥ floor 96.3")
    assert checks.at_least([95.0], 96.3, "K2") == (False, "K2 lowest 95.00 < floor 96.3")
    assert checks.combine([(True, "a"), (False, "b"), (False, "c")]) == (
        "fail", "FAILS: b; FAILS: c; a")
    assert checks.combine([(True, "a")]) == ("pass", "a")


def test_verdict_of_marks_quick_runs_and_keeps_the_statistics():
    verdict = checks.verdict_of([(True, "fine")], [1.0, 3.0], quick=True, reason_prefix="p: ")
    assert verdict.status == "pass" and verdict.reason == "quick run: p: fine"
    assert (verdict.mean, verdict.seeds) == (2.0, 2) and verdict.std == pytest.approx(math.sqrt(2))
    assert verdict.ours == checks.spread([1.0, 3.0])
    assert checks.verdict_of([(False, "low")], [1.0], quick=False).reason == "FAILS: low"

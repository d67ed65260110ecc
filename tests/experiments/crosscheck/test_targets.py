"""The CPU targets of the cross-check (experiments.crosscheck.targets): the runs each needs are
valid command lines, and each judge on fabricated numbers."""

from __future__ import annotations

import pytest

from experiments.crosscheck import checks
from experiments.crosscheck.runs import RunStore
from experiments.crosscheck.targets import CPU, TARGETS, Measured, Run

BY_ID = {target.id: target for target in TARGETS}
P = checks.published_value


def _judge(target_id: str, values: dict, changed: dict | None = None,
           quick: bool = False) -> checks.Verdict:
    changed = {label: [None] * len(v) for label, v in values.items()} | (changed or {})
    return BY_ID[target_id].judge(Measured(values, changed), quick)


def test_a_run_measures_the_final_test_accuracy_by_default():
    assert Run("x", ()).measure is checks.final_test
    assert Measured({"a": [1.0]}, {"a": [None]})["a"] == [1.0]


@pytest.mark.parametrize("quick", [False, True])
def test_every_runs_flags_are_a_valid_command_line(tmp_path, quick):
    store = RunStore(tmp_path, echo=lambda line: None, trainer=None)
    for target in TARGETS:
        assert set(target.published) <= set(checks.published()), target.id
        runs = target.runs(quick)
        assert (target.kind == CPU) == bool(runs), target.id
        assert len({run.label for run in runs}) == len(runs), target.id
        for run in runs:
            cfg = store.parse([*run.flags, "--seed=1"])
            assert cfg.seed == 1, (target.id, run.label)


def test_shortened_runs_are_shorter_when_quick():
    full = {run.label: run.flags for run in BY_ID["C4"].runs(False)}
    quick = {run.label: run.flags for run in BY_ID["C4"].runs(True)}
    assert "--maxepochs=25" in full["K2 greedy"] and "--maxepochs=10" in quick["K2 greedy"]


def test_c1_within_the_tolerance_of_the_readme():
    assert _judge("C1", {"F1": [85.0, 86.0]}).status == "pass"
    assert _judge("C1", {"F1": [83.0]}).status == "fail"


def test_c2_below_the_readme_is_not_reproducible_only_at_the_checkpoints_level():
    assert _judge("C2", {"F2": [P("P4-readme:F2") - 1]}).status == "pass"
    level = _judge("C2", {"F2": [P("P4-pretrained:F2_file")]})
    assert level.status == "not reproducible" and "released F2.h5 itself scores" in level.reason
    below = _judge("C2", {"F2": [60.0]})
    assert below.status == "fail" and "below that too" in below.reason


def test_floors_of_ours_and_their_quick_versions():
    assert _judge("C3", {"Conv7": [99.0]}).status == "fail"
    assert _judge("C3", {"Conv7": [99.0]}, quick=True).status == "pass"
    assert _judge("C4", {"K2 greedy": [96.4]}).status == "pass"
    assert _judge("C11", {"k 0.5": [50.0]}, quick=True).status == "pass"
    slow = _judge("C11", {"k 0.5": [50.0]})
    assert slow.status == "fail" and "the original trained on the same images" in slow.reason
    sanity = _judge("S1", {"sampling": [97.0]})
    assert sanity.status == "pass" and sanity.reason.startswith("sanity floor only (the 98.0 %")


def test_c5_needs_the_floor_and_the_gap_to_k2():
    assert _judge("C5", {"K8 greedy": [97.8], "K2 greedy": [97.2]}).status == "pass"
    close = _judge("C5", {"K8 greedy": [97.8], "K2 greedy": [97.5]})
    assert close.status == "fail" and "FAILS: K=8 − K=2 = +0.30 pp (≥ 0.5)" in close.reason


def test_c6_orderings_only():
    values = {"K8 greedy": [97.0], "K8 probabilistic": [96.0], "learned": [97.5]}
    verdict = _judge("C6", values)
    assert verdict.status == "pass" and verdict.ours.startswith("GS 97.00 % (1 seed), PS ")
    assert _judge("C6", {**values, "learned": [97.8]}).status == "fail"
    assert _judge("C6", {**values, "K8 probabilistic": [97.1]}).status == "fail"


def test_c7_flipped_share_and_accuracy_of_the_baseline():
    values = {"MinFlipping": [95.0], "Baseline heconstant": [98.0]}
    verdict = _judge("C7", values, {"MinFlipping": [0.05]})
    assert verdict.status == "pass" and "flipped 5.00 % (< 10 %)" in verdict.reason
    assert _judge("C7", values, {"MinFlipping": [0.12]}).status == "fail"
    missing = _judge("C7", values, {"MinFlipping": [None]})
    assert missing.status == "fail" and "flipped fraction missing" in missing.reason
    assert missing.ours == "95.00 % (1 seed), flipped missing, Baseline 98.00 % (1 seed)"
    low = _judge("C7", {**values, "MinFlipping": [88.0]}, {"MinFlipping": [0.05]})
    assert low.status == "fail" and "88.00 % vs 0.9 × Baseline 98.00 %" in low.reason


def test_methods_against_their_baselines():
    values = {"FreePruning he": [97.6], "Baseline he": [98.0],
              "FreePruning heconstant": [97.0], "Baseline heconstant": [98.0]}
    verdict = _judge("C8", values, {"FreePruning he": [0.4]})
    assert verdict.status == "fail"
    assert "FAILS: FreePruning heconstant − Baseline heconstant = -1.00 pp" in verdict.reason
    assert "FreePruning he 97.60 % (1 seed), changed 40.00 % (1 seed)" in verdict.ours
    conv2 = {"FreePruning": [56.0], "Baseline": [56.5]}
    assert _judge("C10", conv2).status == "pass"
    low = _judge("C10", {"FreePruning": [50.0], "Baseline": [50.5]})
    assert low.status == "fail" and "FreePruning lowest 50.00 < floor 55.0" in low.reason
    assert _judge("C10", {"FreePruning": [50.0], "Baseline": [50.5]}, quick=True).status == "pass"

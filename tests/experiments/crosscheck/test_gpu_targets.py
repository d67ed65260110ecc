"""Targets G1-G5 (experiments.crosscheck.gpu_targets): the full schedules' runs and how each
target judges fabricated numbers."""

from __future__ import annotations

import pytest

from experiments.crosscheck import checks
from experiments.crosscheck.gpu_targets import GPU_TARGETS
from experiments.crosscheck.targets import GPU, Measured

TARGETS = {target.id: target for target in GPU_TARGETS}
P = checks.published_value


def _judge(target_id: str, values: dict) -> checks.Verdict:
    return TARGETS[target_id].judge(Measured(values, {label: [None] for label in values}), False)


def test_the_gpu_targets_cite_published_numbers_and_run_presets():
    assert list(TARGETS) == ["G1", "G2", "G3", "G4", "G5"]
    for target in GPU_TARGETS:
        assert target.kind == GPU and target.tolerance
        assert set(target.published) <= set(checks.published())
        for quick in (False, True):
            for run in target.runs(quick):
                assert run.flags[0].startswith("--preset="), (target.id, run.label)
    assert TARGETS["G5"].judge is None and TARGETS["G5"].runs(False) == ()
    assert "not built yet" in TARGETS["G5"].note


def test_g1_laperm_conv4_and_conv2():
    good = _judge("G1", {"Conv4": [P("P4-readme:Conv4")], "Conv2": [P("P4-readme:Conv2") - 0.5]})
    assert good.status == "pass" and good.ours.startswith("Conv4 89.17 % (1 seed), Conv2 ")
    bad = _judge("G1", {"Conv4": [P("P4-readme:Conv4")], "Conv2": [P("P4-readme:Conv2") - 1.0]})
    assert bad.status == "fail" and "-1.00 pp from 78.21" in bad.reason


def test_g2_the_pruned_resnet_may_not_beat_the_dense_one_by_much():
    dense, pruned = P("P4-readme:ResNet50"), P("P4-readme:ResNet50_p70")
    assert _judge("G2", {"p0": [dense], "p70": [pruned]}).status == "pass"
    swapped = _judge("G2", {"p0": [dense - 2.0], "p70": [pruned + 0.5]})
    assert swapped.status == "fail" and "FAILS: p0 − p70 = -0.94 pp (≥ −0.3)" in swapped.reason
    assert swapped.ours == "p0 90.53 % (1 seed), p70 91.47 % (1 seed)"


@pytest.mark.parametrize("learned, status", [(90.0, "pass"), (90.4, "fail")])
def test_g3_slot_machines_against_learned_weights(learned, status):
    verdict = _judge("G3", {"VGG19 K8": [P("P3-icml:VGG19_K8")], "Conv6 K8": [90.0],
                            "Conv6 learned": [learned]})
    assert verdict.status == status
    assert verdict.ours.startswith("VGG19 91.00 % (1 seed), Conv6 90.00 % (1 seed), learned ")


def test_g4_signed_constant_must_beat_kaiming_normal():
    values = {"Conv4 usc": [P("P2-notes:Conv4_usc")], "Conv6 usc": [P("P2-notes:Conv6_usc")]}
    assert _judge("G4", {**values, "Conv4 ukn": [80.0]}).status == "pass"
    worse = _judge("G4", {**values, "Conv4 ukn": [P("P2-notes:Conv4_usc") + 0.1]})
    assert worse.status == "fail" and "signed constant − Kaiming normal = -0.10 pp" in worse.reason

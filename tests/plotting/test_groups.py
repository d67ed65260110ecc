"""Grouping runs into configurations: seeds pooled, bookkeeping ignored, names."""

from __future__ import annotations

from pathlib import Path

import pytest

from plotting import group_runs, load_runs
from plotting.groups import BOOKKEEPING_KEYS, naming_fields

#: Two values of each bookkeeping field that must not split seeds apart.
BOOKKEEPING_VALUES = {
    "progress": ("bar", "none"),
    "tensorboard": (True, False),
    "jit_compile": ("auto", "off"),
    "outputpath": ("Outputs", "/scratch/other"),
    "data_dir": (None, "/data/mnist"),
    "manual_dir": (None, "/data/manual"),
    "tfds_data_dir": (None, "/data/tfds"),
    "split_dir": (None, "/data/splits"),
    "eval_batchsize": (200, 1000),
    "checkpoint_every": (0, 500),
    "deterministic": (False, True),
    "distribute": ("none", "mirrored"),
    "mixed_precision": (False, True),
    "cpu_replicas": (0, 2),
    "steps_per_execution": (1, 32),
    "run_dir": ("/a/run-0000001", "/b/run-0000002"),
    "run_id": ("0000001", "0000002"),
    "created": ("2026-01-01T10:00:00", "2026-02-01T10:00:00"),
    "versions": ({"keras": "3.15.1"}, {"keras": "3.16.0", "masktrainer": "0.2.0"}),
    "git": (None, {"commit": "0123456789abcdef0123456789abcdef01234567", "dirty": True}),
    "heartbeat_minutes": (5.0, 0.0),
    "resolved_seed": (11, 12),
    "data": ({"source": "embedded"}, {"source": "files"}),
    "method": ("self_pruning", "self-pruning"),
    "architecture": ("LeNet", "LeNet300"),
    "format_version": (1, 2),
    "extended": (None, [{"from": 1, "to": 2, "after_epoch": 1}]),
    "invocation": ({"preset": None, "command": ["--seed=1"]},
                   {"preset": "laperm_f1", "command": ["--preset", "laperm_f1"]}),
}


def test_every_bookkeeping_key_is_covered() -> None:
    assert set(BOOKKEEPING_VALUES) == BOOKKEEPING_KEYS


@pytest.mark.parametrize("key", sorted(BOOKKEEPING_VALUES))
def test_bookkeeping_fields_pool_seeds(tmp_path: Path, run_writer, key: str) -> None:
    first, second = BOOKKEEPING_VALUES[key]
    # --mixed_precision is a spelling of the precision, which itself splits configurations.
    same = {"precision": "mixed_float16"} if key == "mixed_precision" else {}
    run_writer(tmp_path, 1, [0.1, 0.5], **{key: first}, **same)
    run_writer(tmp_path, 2, [0.1, 0.6], **{key: second}, **same)
    (group,) = group_runs(load_runs(tmp_path))
    assert group.n == 2 and key not in group.config


def test_a_setting_splits_configurations(tmp_path: Path, run_writer) -> None:
    for seed, lr in ((1, 0.001), (2, 0.001), (3, 0.01)):
        run_writer(tmp_path, seed, [0.1, 0.5], lr=lr)
    groups = group_runs(load_runs(tmp_path))
    assert [(g.config["lr"], g.n) for g in groups] == [(0.001, 2), (0.01, 1)]


def test_grouping_ignores_seed_and_bookkeeping(groups, probe) -> None:
    assert [g.n for g in groups] == [2, 1, 4]  # Baseline, flip, mask (sorted)
    main = probe.main_group(groups)
    assert [r.config["seed"] for r in main.runs] == [0, 1, 2, 3]  # sorted by seed
    assert "seed" not in main.config and "created" not in main.config
    assert main.label == "FreePruning · he · mask · lr 0.001 (n=4 seeds)"
    baseline = probe.group_named(groups, traintype="Baseline")
    assert baseline.label == "Baseline · he · mask · lr 0.001 (n=2 seeds)"
    assert "n=1 seed)" in probe.group_named(groups, masktype="flip").label


def test_drawn_seeds_are_told_apart_by_resolved_seed(tmp_path: Path, run_writer) -> None:
    """``seed 0`` means "draw one": the runs are seeds of one configuration."""
    for resolved in (777, 123):
        run_writer(tmp_path, 0, [0.1, 0.5], resolved_seed=resolved)
    (group,) = group_runs(load_runs(tmp_path))
    assert [run.seed for run in group.runs] == [123, 777]


def test_names_show_fields_that_differ_within_a_method(tmp_path: Path, run_writer) -> None:
    """Fields that differ only between methods are the methods' recipes."""
    run_writer(tmp_path, 1, [0.1, 0.5])
    run_writer(tmp_path, 2, [0.1, 0.5], lr=0.01)
    edge = dict(traintype="EdgePopup", initializer="kaiming_normal", masktype=None,
                optimizer="sgd", batchsize=128, lr=0.1, keep_ratio=0.5)
    run_writer(tmp_path, 3, [0.1, 0.5], **edge)
    run_writer(tmp_path, 4, [0.1, 0.5], traintype="LaPerm", nettype="F1",
               initializer="notebook", masktype=None, batchsize=128)
    groups = group_runs(load_runs(tmp_path))
    assert "optimizer" not in naming_fields(groups) and "batchsize" not in naming_fields(groups)
    assert [g.name for g in groups] == [
        "EdgePopup · LeNet · kaiming_normal · lr 0.1 · keep_ratio 0.5",
        "FreePruning · LeNet · he · mask · lr 0.001",
        "FreePruning · LeNet · he · mask · lr 0.01",
        "LaPerm · F1 · notebook · lr 0.001",
    ]


def test_names_are_unique_when_one_method_varies_a_recipe_field(
    tmp_path: Path, run_writer
) -> None:
    run_writer(tmp_path, 1, [0.1, 0.5], batchsize=25)
    run_writer(tmp_path, 2, [0.1, 0.5], batchsize=100)
    run_writer(tmp_path, 3, [0.1, 0.5], traintype="EdgePopup", batchsize=128)
    names = [g.name for g in group_runs(load_runs(tmp_path))]
    assert len(set(names)) == 3
    assert "FreePruning · he · mask · lr 0.001 · batch 100" in names


def test_precision_splits_configurations(tmp_path: Path, run_writer) -> None:
    run_writer(tmp_path, 1, [0.1, 0.5])  # written before --precision: float32
    run_writer(tmp_path, 2, [0.1, 0.6], precision="float32")
    run_writer(tmp_path, 3, [0.1, 0.6], precision="mixed_bfloat16")
    run_writer(tmp_path, 4, [0.1, 0.6], mixed_precision=True)  # the old float16 spelling
    groups = group_runs(load_runs(tmp_path))
    assert sorted((g.config["precision"], g.n) for g in groups) == [
        ("float32", 2), ("mixed_bfloat16", 1), ("mixed_float16", 1)]

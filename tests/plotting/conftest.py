"""Fabricated run directories for the plotter's tests, and helpers to inspect figures.

The runs are written the way masktrainer writes them (config.json with the
settings and the trainer's bookkeeping, metrics.json with per-epoch series);
nothing is trained. Helpers are handed to tests as fixtures (``run_writer``,
``probe``) because test modules are imported in importlib mode.
"""

from __future__ import annotations

import io
import json
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402

import plotting  # noqa: E402
from plotting import build_figures, group_runs, load_runs  # noqa: E402

SPLITS = ("train", "val", "test")
LAYERS = ["dense_1", "dense_2"]
SIZES = [60, 40]

# Main group: FreePruning, he, mask; three complete seeds plus one killed run.
TEST_ACC = {
    0: [0.10, 0.50, 0.70, 0.80],
    1: [0.12, 0.56, 0.72, 0.86],
    2: [0.08, 0.53, 0.74, 0.83],
}
VAL_ACC = {
    0: [0.10, 0.60, 0.90, 0.80],  # best epoch 2
    1: [0.10, 0.60, 0.70, 0.90],  # best epoch 3
    2: [0.10, 0.95, 0.70, 0.80],  # best epoch 1
}
KEPT = {  # kept weights per epoch in dense_1 (of 60) and dense_2 (of 40)
    0: ([30, 25, 20, 14], [20, 15, 10, 6]),
    1: ([30, 26, 21, 15], [20, 16, 11, 7]),
    2: ([30, 24, 19, 13], [20, 14, 9, 5]),
}
BASELINE_ACC = {10: [0.10, 0.90, 0.95, 0.97], 11: [0.10, 0.92, 0.96, 0.99]}
FLIPPED_NEG = ([0, 6, 12, 18], [0, 4, 8, 12])  # negative masks per layer
#: A config.json as the trainer writes it: settings plus bookkeeping.
BASE_CONFIG = {
    "format_version": 1,
    "method": "self_pruning",
    "architecture": "LeNet",
    "traintype": "FreePruning",
    "nettype": "LeNet",
    "dataset": "mnist",
    "initializer": "he",
    "activation": "relu",
    "masktype": "mask",
    "batchsize": 25,
    "maxepochs": 3,
    "p1": 0.5,
    "lr": 0.001,
    "optimizer": "adam",
    "keep_ratio": None,
    "outputpath": "Outputs",
    "data_dir": None,
    "progress": "auto",
    "tensorboard": True,
    "jit_compile": "auto",
    "eval_batchsize": 200,
    "data": {"source": "embedded MNIST (package data)", "train": 55000},
    "versions": {"tensorflow": "2.21.0"},
}


def per_layer(kept: tuple[list[int], list[int]], flip: bool = False) -> list:
    """remainingWeightsPerLayer entries from per-layer kept (or flipped) counts."""
    rows = []
    for epoch in range(len(kept[0])):
        layers = []
        for size, counts in zip(SIZES, kept):
            k = counts[epoch]
            if flip:  # k negative masks, the rest positive, no zeros
                layers.append([k, 0, size - k, size // 2, 0, size - size // 2])
            else:
                layers.append([0, size - k, k, k // 2, size - k, k - k // 2])
        rows.append(layers)
    return rows


def write_run(
    root: Path,
    seed: int,
    test: list[float],
    val: list[float] | None = None,
    kept: tuple[list[int], list[int]] | None = None,
    status: str = "complete",
    **overrides: Any,
) -> Path:
    """Write a run directory like masktrainer does; returns the directory.

    Keyword arguments override config fields (``None`` is written as null,
    as the trainer does for unset fields); ``m_<key>`` ones override
    metrics.json entries (``None`` removes the entry).
    """
    resolved = overrides.pop("resolved_seed", seed)
    config = BASE_CONFIG | {"seed": seed, "resolved_seed": resolved}
    identity = json.dumps([seed, resolved, overrides], sort_keys=True).encode()
    run_id = f"{zlib.crc32(identity):08x}"[:7]
    config |= {"run_id": run_id, "created": f"2026-11-21T10:00:{seed % 60:02d}"}
    config.update({k: v for k, v in overrides.items() if not k.startswith("m_")})
    n = len(test)
    val = val if val is not None else test
    kept = kept if kept is not None else ([60] * n, [40] * n)
    flip = config["masktype"] == "flip"
    metrics = {
        "format_version": 1,
        "status": status,
        "epochs_completed": n - 1,
        "layer_names": LAYERS,
        "layer_sizes": SIZES,
        **{f"{split}Loss": [2.0 - 0.5 * e for e in range(n)] for split in SPLITS},
        "trainAccuracy": [min(1.0, a + 0.05) for a in test],
        "valAccuracy": val,
        "testAccuracy": test,
        "remainingWeights": [100 if flip else a + b for a, b in zip(*kept)],
        "remainingWeightsPerLayer": per_layer(kept, flip),
        "epochSeconds": [0.0] + [10.0 + seed] * (n - 1),
    }
    metrics.update({k[2:]: v for k, v in overrides.items() if k.startswith("m_")})
    metrics = {k: v for k, v in metrics.items() if v is not None}
    leaf = f"{config['masktype']}_{config['initializer']}"[:40]  # file names have a limit
    folder = f"{config['traintype']}/{config['nettype']}/{leaf}"
    run_dir = root / folder / f"run-{run_id}"
    run_dir.mkdir(parents=True)
    (run_dir / "config.json").write_text(json.dumps(config))
    (run_dir / "metrics.json").write_text(json.dumps(metrics))
    return run_dir


@pytest.fixture(scope="session")
def run_writer():
    """:func:`write_run`, for tests that fabricate their own folders."""
    return write_run


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three seeds + an incomplete run, two baselines, a flip run, a corrupt run."""
    root = tmp_path_factory.mktemp("Outputs")
    for seed in TEST_ACC:
        write_run(root, seed, TEST_ACC[seed], VAL_ACC[seed], KEPT[seed])
    write_run(root, 3, [0.10, 0.62], [0.10, 0.50], ([30, 26], [20, 16]), "running")
    for seed, acc in BASELINE_ACC.items():
        write_run(root, seed, acc, traintype="Baseline", p1=1.0)
    write_run(root, 20, [0.1, 0.6, 0.8, 0.9], kept=FLIPPED_NEG, masktype="flip")
    corrupt = root / "FreePruning" / "LeNet" / "mask_he" / "run-corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text(json.dumps({"seed": 99}))
    (corrupt / "metrics.json").write_text('{"status": "complete", "testAcc')
    return root


@pytest.fixture(scope="session")
def groups(runs_root: Path) -> list[plotting.RunGroup]:
    return group_runs(load_runs(runs_root))


@pytest.fixture(scope="session")
def figures(groups: list[plotting.RunGroup]) -> dict[str, Any]:
    return build_figures(groups, compare="traintype")


def group_named(groups: list[plotting.RunGroup], **fields: Any) -> Any:
    (found,) = [g for g in groups if all(g.config.get(k) == v for k, v in fields.items())]
    return found


def main_group(groups: list[plotting.RunGroup]) -> plotting.RunGroup:
    return group_named(groups, traintype="FreePruning", masktype="mask")


def axes_by_ylabel(fig: Any, label: str) -> Any:
    (ax,) = [ax for ax in fig.axes if ax.get_ylabel() == label]
    return ax


def line(ax: Any, label: str, kind: str = "") -> Any:
    """The mean line (kind "") or the _min/_max line of the group ``label``."""
    lines = [ln for ln in ax.get_lines() if ln.get_gid() == label]
    (found,) = [ln for ln in lines if ln.get_label() == (kind or label)]
    return found


def assert_band(ax: Any, label: str, low: list[float], high: list[float]) -> None:
    """The filled band of ``label`` spans [low, high] at every epoch."""
    (band,) = [c for c in ax.collections if c.get_gid() == label]
    assert isinstance(band, PolyCollection)
    vertices = band.get_paths()[0].vertices
    for epoch, (lo, hi) in enumerate(zip(low, high)):
        ys = vertices[np.isclose(vertices[:, 0], epoch), 1]
        assert ys.min() == pytest.approx(lo) and ys.max() == pytest.approx(hi)


def legend_texts(legend: Any) -> list[str]:
    """Legend entries with the wrapping undone."""
    return [t.get_text().replace("\n", " ") for t in legend.get_texts()]


def assert_legends_inside(fig: Any) -> None:
    """Every legend of the figure and its subfigures lies inside the canvas."""
    fig.savefig(io.BytesIO(), format="png", dpi=50)  # lays the figure out
    canvas = fig.bbox
    legends = list(fig.legends) + [lg for sub in fig.subfigs for lg in sub.legends]
    legends += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    assert legends
    for legend in legends:
        box = legend.get_window_extent()
        assert box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1, legend_texts(legend)
        assert box.y0 >= canvas.y0 - 1 and box.y1 <= canvas.y1 + 1, legend_texts(legend)


@pytest.fixture(scope="session")
def probe() -> SimpleNamespace:
    """Helpers that find groups, axes and lines in built figures."""
    return SimpleNamespace(
        group_named=group_named,
        main_group=main_group,
        axes_by_ylabel=axes_by_ylabel,
        line=line,
        assert_band=assert_band,
        legend_texts=legend_texts,
        assert_legends_inside=assert_legends_inside,
    )

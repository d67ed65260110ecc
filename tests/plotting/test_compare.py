"""``compare_<field>.png``: only comparable runs share axes; titles name what differs."""

from __future__ import annotations

from pathlib import Path

import pytest

from plotting import build_figures, group_runs, load_runs
from plotting.compare import compare_facets

EDGE_POPUP = dict(traintype="EdgePopup", initializer="kaiming_normal", masktype=None,
                  optimizer="sgd", batchsize=128, lr=0.1, keep_ratio=0.5)


def _facets(root: Path, field: str) -> list[tuple[str, list[str]]]:
    groups = group_runs(load_runs(root))
    return [(title, [g.name for g in members]) for title, members in compare_facets(groups, field)]


def test_compare_figure(groups, figures, probe) -> None:
    fig = figures["compare_traintype"]
    assert "traintype" in fig.get_suptitle()
    legends = [probe.legend_texts(sub.legends[0]) for sub in fig.subfigs if sub.legends]
    assert ["Baseline (n=2 seeds)", "FreePruning (n=4 seeds)"] in legends
    assert ["Baseline (n=2 seeds)", "FreePruning (n=1 seed)"] in legends
    titles = sorted(s.get_suptitle() for s in fig.subfigs if s.get_visible())
    assert titles == ["masktype flip", "masktype mask"]
    probe.assert_legends_inside(fig)


def test_runs_of_other_nets_and_data_sets_get_their_own_panels(
    tmp_path: Path, run_writer
) -> None:
    for seed in (1, 2):
        run_writer(tmp_path, seed, [0.1, 0.9])
        run_writer(tmp_path, seed, [0.1, 0.9], masktype="flip")
        run_writer(tmp_path, seed, [0.1, 0.6], **EDGE_POPUP, nettype="Conv4", dataset="cifar10")
        run_writer(tmp_path, seed, [0.1, 0.8], traintype="LaPerm", nettype="F1",
                   initializer="notebook", masktype=None)
    facets = _facets(tmp_path, "traintype")
    assert facets == [
        ("Conv4 · cifar10",
         ["EdgePopup · Conv4 · cifar10 · kaiming_normal · lr 0.1 · keep_ratio 0.5"]),
        ("F1 · mnist", ["LaPerm · F1 · mnist · notebook · lr 0.001"]),
        ("LeNet · mnist · masktype flip",
         ["FreePruning · LeNet · mnist · he · flip · lr 0.001"]),
        ("LeNet · mnist · masktype mask",
         ["FreePruning · LeNet · mnist · he · mask · lr 0.001"]),
    ]
    assert not any("unset" in title for title, _ in facets)


def test_a_single_configuration_of_a_value_joins_each_panel(tmp_path: Path, run_writer) -> None:
    for lr in (0.001, 0.01):
        run_writer(tmp_path, 1, [0.1, 0.9], lr=lr)
    run_writer(tmp_path, 1, [0.1, 0.8], **EDGE_POPUP)
    facets = _facets(tmp_path, "traintype")
    assert facets == [
        ("lr 0.001", ["EdgePopup · kaiming_normal · lr 0.1 · keep_ratio 0.5",
                      "FreePruning · he · mask · lr 0.001"]),
        ("lr 0.01", ["EdgePopup · kaiming_normal · lr 0.1 · keep_ratio 0.5",
                     "FreePruning · he · mask · lr 0.01"]),
    ]


def test_variants_of_one_method_are_named_in_the_legend(
    tmp_path: Path, run_writer, probe
) -> None:
    """Two mask types of FreePruning, two keep ratios of EdgePopup: two panels."""
    for keep in (0.3, 0.5):
        run_writer(tmp_path, 1, [0.1, 0.8], **(EDGE_POPUP | {"keep_ratio": keep}))
    for masktype in ("mask", "flip"):
        run_writer(tmp_path, 1, [0.1, 0.9], masktype=masktype)
    fig = build_figures(group_runs(load_runs(tmp_path)), compare="traintype")["compare_traintype"]
    assert [sub.get_suptitle() for sub in fig.subfigs] == ["keep_ratio 0.3", "keep_ratio 0.5"]
    legend = fig.subfigs[0].legends[0]
    assert probe.legend_texts(legend) == [
        "EdgePopup (n=1 seed)",
        "FreePruning · masktype flip (n=1 seed)",
        "FreePruning · masktype mask (n=1 seed)",
    ]
    # one colour per method, a style per variant (1-epoch runs: a marker shape)
    styles = [(line.get_linestyle(), line.get_marker()) for line in legend.get_lines()]
    assert styles[1] != styles[2]


def test_comparing_another_field_keeps_methods_apart(tmp_path: Path, run_writer) -> None:
    for lr in (0.001, 0.01):
        run_writer(tmp_path, 1, [0.1, 0.9], lr=lr)
    for lr in (0.1, 0.2):
        run_writer(tmp_path, 1, [0.1, 0.8], **(EDGE_POPUP | {"lr": lr}))
    facets = _facets(tmp_path, "lr")
    assert [(title, len(names)) for title, names in facets] == [
        ("traintype EdgePopup", 2), ("traintype FreePruning", 2)
    ]


def test_comparing_the_net_keeps_data_sets_apart(tmp_path: Path, run_writer) -> None:
    run_writer(tmp_path, 1, [0.1, 0.9])
    run_writer(tmp_path, 1, [0.1, 0.9], nettype="Conv2")
    run_writer(tmp_path, 1, [0.1, 0.6], nettype="Conv2", dataset="cifar10")
    facets = _facets(tmp_path, "nettype")
    assert [(title, len(names)) for title, names in facets] == [("cifar10", 1), ("mnist", 2)]


@pytest.mark.parametrize("panels", [1, 4, 7])
def test_figure_size_grows_with_panels_not_beyond_reason(
    tmp_path: Path, run_writer, panels: int
) -> None:
    for index in range(panels):
        run_writer(tmp_path, 1, [0.1, 0.9], nettype=f"Net{index}")
        run_writer(tmp_path, 2, [0.1, 0.8], nettype=f"Net{index}", traintype="Baseline")
    fig = build_figures(group_runs(load_runs(tmp_path)), compare="traintype")["compare_traintype"]
    width, height = fig.get_size_inches()
    rows = -(-panels // 3)
    assert 7 <= width <= 14.5
    assert height <= 7.5 * rows + 1.5
    assert len([s for s in fig.subfigs if s.get_visible()]) == panels


def test_a_configuration_without_test_accuracy_is_named_not_dropped(
    tmp_path: Path, run_writer, caplog
) -> None:
    for seed in (1, 2):
        run_writer(tmp_path, seed, [0.1, 0.9])
        run_writer(tmp_path, seed, [0.1, 0.8], **EDGE_POPUP)
        run_writer(tmp_path, seed, [0.1, 0.7], traintype="SlotMachine", initializer="kaiming",
                   masktype=None, m_testAccuracy=None)
    groups = group_runs(load_runs(tmp_path))
    with caplog.at_level("WARNING"):
        fig = build_figures(groups, "traintype")["compare_traintype"]
    title = fig.get_suptitle().replace("\n", " ")
    assert "no accuracy line for 1 of 3 configurations" in title
    assert "SlotMachine" in title and "no test accuracy recorded" in title
    assert "1 configuration(s) have no test-accuracy line" in caplog.text
    assert "SlotMachine" in caplog.text
    labels = [text.get_text() for sub in fig.subfigs if sub.legends
              for text in sub.legends[0].get_texts()]
    assert sum("SlotMachine" in label and "no test accuracy recorded" in label.replace("\n", " ")
               for label in labels) == 1
    assert len(labels) == 3  # every configuration, drawn or not

"""The plotter's Python API (plotting.api): formats, the comparison field, which figures are
built, where files are written, and the errors for no runs."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from plotting import api, group_runs, load_runs


def _two_runs(root: Path, run_writer, **overrides) -> Path:
    for seed in (1, 2):
        run_writer(root, seed, [0.1, 0.5, 0.6], kept=([60, 50, 40], [40, 30, 20]), **overrides)
    return root


def test_formats_are_normalised_deduplicated_and_checked():
    assert api.check_formats(["PNG", " .svg", "png", "pdf"]) == ("png", "svg", "pdf")
    with pytest.raises(ValueError, match=r"^unsupported format 'jpg', 'gif'; choose from png, "
                                         r"pdf, svg$"):
        api.check_formats(["png", "jpg", "gif"])
    with pytest.raises(ValueError, match="unsupported format none given"):
        api.check_formats([])


def test_the_comparison_field_must_be_a_field_of_the_runs(tmp_path, run_writer, caplog):
    runs = load_runs(_two_runs(tmp_path, run_writer))
    with pytest.raises(ValueError, match="unknown --compare field 'colour'; fields in these "
                                         "runs: .*traintype"):
        api.check_compare(runs, "colour")
    with caplog.at_level(logging.WARNING):
        api.check_compare(runs, "traintype")
    assert "all runs have the same 'traintype'; the comparison has a single value" in caplog.text
    caplog.clear()
    run_writer(tmp_path, 3, [0.1, 0.4, 0.5], lr=0.01)
    with caplog.at_level(logging.WARNING):
        api.check_compare(load_runs(tmp_path), "lr")
    assert "single value" not in caplog.text


def test_build_figures_names_the_comparison_after_a_safe_stem(tmp_path, run_writer):
    groups = group_runs(load_runs(_two_runs(tmp_path, run_writer)))
    figures = api.build_figures(groups, compare="lr")
    assert {"accuracy_loss", "accuracy_sparsity", "remaining", "compare_lr"} <= set(figures)
    assert all(isinstance(figure, Figure) for figure in figures.values())
    assert "composition" in figures and "permutation_tracer" not in figures  # not LaPerm
    assert "compare_lr" not in api.build_figures(groups)
    assert "compare_a_b" in api.build_figures(groups, compare="a/b")  # no folder in a stem


def test_save_figures_writes_every_figure_in_every_format(tmp_path, run_writer):
    groups = group_runs(load_runs(_two_runs(tmp_path / "runs", run_writer)))
    figures = api.build_figures(groups)
    written = api.save_figures(figures, tmp_path / "out" / "new", formats=("png", "pdf"), dpi=20)
    assert written == [tmp_path / "out" / "new" / f"{name}.{fmt}"
                       for name in figures for fmt in ("png", "pdf")]
    assert (tmp_path / "out/new/accuracy_loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "out/new/accuracy_loss.pdf").read_bytes()[:5] == b"%PDF-"
    with pytest.raises(ValueError, match="unsupported format 'bmp'"):
        api.save_figures(figures, tmp_path / "bad", formats=("bmp",))


def test_render_writes_next_to_the_runs_or_to_out(tmp_path, run_writer):
    runs = _two_runs(tmp_path / "runs", run_writer)
    figures, written = api.render(runs, formats=("svg",), dpi=20)
    names = {path.name for path in written}
    assert {f"{name}.svg" for name in figures} | {"summary.md", "summary.csv"} == names
    assert all(path.parent == runs for path in written)
    _, elsewhere = api.render(runs, out=tmp_path / "figs", formats=("svg",), dpi=20)
    assert {path.name for path in elsewhere} == names
    assert all(path.parent == tmp_path / "figs" for path in elsewhere)


def test_render_of_loaded_runs_writes_nothing_without_out(tmp_path, run_writer):
    runs = load_runs(_two_runs(tmp_path / "runs", run_writer))
    figures, written = api.render(runs)
    assert written == [] and "accuracy_loss" in figures
    assert sorted(path.name for path in (tmp_path / "runs").rglob("*.png")) == []
    assert api.plot_runs(runs).keys() == figures.keys()


def test_no_runs_and_no_folder_are_errors(tmp_path):
    with pytest.raises(NotADirectoryError, match="runs folder not found: "):
        api.render(tmp_path / "missing")
    with pytest.raises(api.NoRunsError, match=rf"^no runs found in {tmp_path} \(a run is a "
                                              r"folder with .* and .*\)$"):
        api.render(tmp_path)
    with pytest.raises(api.NoRunsError, match=r"^no runs found \(a run"):
        api.render([])
    with pytest.raises(ValueError, match="unsupported format"):  # checked before any loading
        api.render(tmp_path / "missing", formats=("tiff",))

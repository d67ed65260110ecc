"""experiments.device_check: the smoke run writes its report; bad options stop it at once."""

from __future__ import annotations

import json

import pytest

from experiments import device_check


def test_the_smoke_run_reports_throughput_and_skips_the_crosscheck(tmp_path, capsys):
    assert device_check.main(["--smoke", "--out", str(tmp_path / "dc"),
                              "--methods", "edge_popup"]) == 0
    report = json.loads((tmp_path / "dc" / "device_check.json").read_text())
    (row,) = report["rows"]
    assert (row["method"], row["precision"], row["xla"]) == ("edge_popup", "float32", False)
    assert row["images_per_s"] > 0
    assert report["crosscheck"] == {"skipped": "--smoke"}
    assert report["devices"]["cpu"]["cores"] >= 1
    text = (tmp_path / "dc" / "device_check.md").read_text()
    assert "| edge_popup | float32 | off |" in text and "skipped: --smoke" in text


@pytest.mark.parametrize("args,message", [
    (["--minutes", "0"], "--minutes must be in"),
    (["--methods", "edge_popup,nosuch"], "unknown method(s) nosuch"),
])
def test_bad_options_stop_before_any_work(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as stopped:
        device_check.main(["--smoke", "--out", str(tmp_path / "dc"), *args])
    assert stopped.value.code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "dc").exists()


def test_every_method_has_settings():
    from masktrainer import methods

    assert set(device_check.METHOD_SETTINGS) == {m.key for m in methods.METHODS}

"""Slot Machines' fine-tuning: which source runs it accepts."""

import json

import pytest

from masktrainer.methods.slot_machines.finetune import SourceRunError, load_source


def _fake_source(tmp_path, selection):
    run = tmp_path / f"run-{selection}"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"traintype": "SlotMachine",
                                                 "selection": selection}))
    (run / "metrics.json").write_text(json.dumps({"epochs_completed": 3}))
    (run / "model.keras").write_bytes(b"not read before the checks")
    return run


def test_fine_tuning_takes_greedy_sources_unless_asked(tmp_path):
    probabilistic = _fake_source(tmp_path, "probabilistic")
    with pytest.raises(SourceRunError, match="greedy runs only.*--finetune_any_selection"):
        load_source(probabilistic, epoch=3)
    with pytest.raises(SourceRunError, match="cannot be loaded"):  # accepted: reads the model
        load_source(probabilistic, epoch=3, any_selection=True)
    with pytest.raises(SourceRunError, match="not a slot-machine run"):
        load_source(_fake_source(tmp_path, "learned"), epoch=3)

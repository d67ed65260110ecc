"""masktrainer.methods.upgrade: a stored run's config as RunConfig values."""

from masktrainer.config import RunConfig
from masktrainer.layout import BOOKKEEPING_KEYS
from masktrainer.methods.upgrade import config_values


def test_bookkeeping_is_dropped_and_a_new_run_config_comes_back_whole():
    cfg = RunConfig(traintype="EdgePopup", nettype="Conv4")
    stored = {**cfg.to_dict(), **{key: "x" for key in BOOKKEEPING_KEYS}}
    values = config_values(stored)
    assert not set(values) & set(BOOKKEEPING_KEYS)
    assert RunConfig.from_dict(values) == cfg


def test_an_old_run_gets_the_settings_its_version_used():
    old = {"traintype": "FreePruning", "nettype": "ResNet", "mixed_precision": True,
           "split": "head", "format_version": 1}
    values = config_values(old)
    assert values["precision"] == "mixed_float16"  # before --precision: float16 when true
    assert values["augment"] == "shift_flip"  # ResNet20 had its shifts and flips
    assert values["initial_eval"] == "full" and "protocol" in values
    assert "format_version" not in values


def test_an_unknown_train_type_is_left_for_run_config_to_name():
    values = config_values({"traintype": "NoSuchMethod", "run_id": "abc"})
    assert values == {"traintype": "NoSuchMethod", "precision": "float32"}

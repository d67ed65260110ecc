"""masktrainer.methods.compat: what a run directory of an earlier version did not record is
filled with what that version did (the augmentation, the evaluated sets, the protocol)."""

from masktrainer.methods.compat import Compat, infer_protocol


class _Recipe:
    """A recipe whose original protocol trains on the head split and evaluates val and test."""

    def original_settings(self, values):
        return "head", "val,test"


def test_missing_settings_get_the_earlier_versions_values():
    old = {"nettype": "ResNet", "split": "head"}
    upgraded = Compat().upgrade_config(old, _Recipe())
    assert upgraded == {**old, "augment": "shift_flip", "eval_sets": "val,test",
                        "initial_eval": "full", "protocol": "original"}
    assert old == {"nettype": "ResNet", "split": "head"}  # the input is not changed
    assert Compat().upgrade_config({"nettype": "LeNet"}, _Recipe())["augment"] == "none"


def test_recorded_settings_are_kept():
    recorded = {"augment": "none", "eval_sets": "test", "protocol": "custom"}
    assert Compat().upgrade_config(recorded, _Recipe()) == recorded


def test_the_protocol_a_run_followed_is_inferred_from_its_split_and_sets():
    recipe = _Recipe()
    assert infer_protocol({"split": "head", "eval_sets": "val,test"}, recipe) == "original"
    assert infer_protocol({"split": "test", "eval_sets": "val"}, recipe) == "custom"
    assert infer_protocol({"split": "head"}, object()) == "custom"  # no original_settings

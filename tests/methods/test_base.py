"""The method interface (masktrainer.methods.base): a method's name, where its folders start,
the one-line choice error and the schedules of all methods."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from masktrainer import methods
from masktrainer.errors import ConfigError
from masktrainer.methods.base import Method, all_lr_schedules, check_choice, group_root
from masktrainer.methods.recipe import Recipe
from masktrainer.methods.runtime import Runtime
from masktrainer.methods.schedules import SHARED_SCHEDULES


class _Schedules(Recipe):
    lr_schedules = ("step_own",)


def _method(key: str, train_types: tuple[str, ...], recipe: Recipe | None = None) -> Method:
    return Method(key=key, title="t", train_types=train_types, recipe=recipe or Recipe(),
                  runtime=Runtime())


def test_a_method_is_named_by_its_train_type_or_its_family():
    assert _method("edge_popup", ("EdgePopup",)).name == "EdgePopup"
    assert _method("self_pruning", ("FreePruning", "MinPruning")).name == "self-pruning"
    method = _method("x", ("X",))
    assert method.position == 100 and method.checkpoints is None and method.summary == ""
    with pytest.raises(AttributeError):
        method.key = "y"  # frozen


def test_group_root_names_the_width_only_when_scaled():
    cfg = SimpleNamespace(outputpath="out", traintype="EdgePopup", nettype="Conv4",
                          width_mult=1.0)
    assert group_root(cfg) == Path("out/EdgePopup/Conv4")
    cfg.width_mult = 0.5
    assert group_root(cfg) == Path("out/EdgePopup/Conv4_x0.5")


def test_check_choice_is_a_one_line_config_error_with_a_hint():
    check_choice("--selection", "greedy", ("greedy", "probabilistic"))
    with pytest.raises(ConfigError) as error:
        check_choice("--selection", "gredy", ("greedy", "probabilistic"), " (for SlotMachine)")
    message = str(error.value)
    assert message.startswith("--selection='gredy' is not one of: greedy, probabilistic "
                              "(for SlotMachine)")
    assert "greedy" in message.split(";", 1)[1] and "\n" not in message


def test_all_lr_schedules_lists_the_shared_ones_then_each_methods_own():
    mixed = [_method("a", ("A",)), _method("b", ("B",), _Schedules())]
    assert all_lr_schedules(mixed) == (*SHARED_SCHEDULES, "step_own")
    assert all_lr_schedules([]) == SHARED_SCHEDULES
    registered = all_lr_schedules(methods.METHODS)
    assert registered[:len(SHARED_SCHEDULES)] == SHARED_SCHEDULES
    assert len(registered) == len(set(registered))  # no method repeats a schedule

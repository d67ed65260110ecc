"""masktrainer.options: one declared setting checks its values in one line; a draft
configuration takes a method's defaults only where nothing was set."""

import math

import pytest

from masktrainer.errors import ConfigError
from masktrainer.options import Draft, Option, unique


def test_unset_is_refused_only_where_a_value_is_needed():
    Option("seed", int).check(None)
    with pytest.raises(ConfigError, match="^--lr must be set$"):
        Option("lr", float, default=0.1).check(None)
    with pytest.raises(ConfigError, match="^--data_dir must be set$"):
        Option("data_dir", str, required=True).check(None)
    with pytest.raises(ConfigError, match="^keep must be set$"):
        Option("keep", float).check(None, label="keep", required=True)


def test_types_choices_and_nul_characters():
    with pytest.raises(ConfigError, match="must be true or false"):
        Option("jit", bool).check("yes")
    choices = Option("optimizer", str, choices=lambda: ("adam", "sgd"))
    choices.check("sgd")
    with pytest.raises(ConfigError, match="did you mean 'adam'"):
        choices.check("adm")
    with pytest.raises(ConfigError, match="NUL"):
        Option("outputpath", str).check("a\x00b")
    with pytest.raises(ConfigError, match="must be an integer"):
        Option("epochs", int).check(2.0)
    with pytest.raises(ConfigError, match="must be an integer"):
        Option("epochs", int).check(True)


@pytest.mark.parametrize("option,value,message", [
    (Option("keep", float, minimum=0, maximum=1, exclusive_minimum=True), 0.0,
     "--keep must be a number in (0, 1] (got 0.0)"),
    (Option("slots", int, minimum=2, why="K=1 leaves nothing to select"), 1,
     "--slots must be an integer >= 2 (got 1); K=1 leaves nothing to select"),
    (Option("lr", float, minimum=0, exclusive_minimum=True), math.nan,
     "--lr must be a finite number > 0 (got nan)"),
    (Option("p", float, maximum=1, exclusive_maximum=True), 1, "--p must be a finite number < 1"),
])
def test_ranges_are_described_in_the_message(option, value, message):
    with pytest.raises(ConfigError) as caught:
        option.check(value)
    assert str(caught.value).startswith(message)


def test_a_name_declared_twice_must_be_the_same_option():
    lr = Option("lr", float)
    assert [option.name for option in unique([lr, Option("seed", int), lr])] == ["lr", "seed"]
    with pytest.raises(ValueError, match="declared twice"):
        unique([lr, Option("lr", float, default=0.1)])


def test_a_draft_keeps_explicit_settings_and_fills_the_unset_ones():
    draft = Draft({"lr": 0.5, "optimizer": None})
    draft.put("lr", 0.1)
    draft.put("optimizer", "sgd")
    draft.put("optimizer", "adam")
    assert draft.lr == 0.5 and draft.optimizer == "sgd"
    assert draft.values() == {"lr": 0.5, "optimizer": "sgd"}
    with pytest.raises(KeyError, match="unknown setting"):
        draft.put("momentum", 0.9)
    with pytest.raises(AttributeError):
        draft.lr = 0.2
    with pytest.raises(AttributeError):
        draft.momentum

"""Biprop's options: edge-popup's very declarations for the shared knobs, its own alpha rule."""

import pytest

from masktrainer.config import OPTIONS
from masktrainer.methods.biprop import options as biprop_options
from masktrainer.methods.edge_popup import options as edge_popup_options


def test_shared_options_are_edge_popups_objects_declared_once():
    shared = {o.name: o for o in edge_popup_options.OPTIONS}
    assert biprop_options.SCALE_FAN is shared["scale_fan"]
    assert biprop_options.SCALE_FAN_RULE is shared["scale_fan_rule"]
    assert biprop_options.OPTIONS[0] is edge_popup_options.KEEP_RATIO
    for option in biprop_options.OPTIONS:
        assert OPTIONS[option.name] is option


def test_alpha_rule_is_biprops_own_with_the_originals_default():
    rule = biprop_options.ALPHA_RULE
    assert (rule.group, rule.default, rule.choices) == ("biprop", "original",
                                                         ("original", "kept"))
    with pytest.raises(ValueError):
        rule.check("mean", label="alpha_rule", required=True)

"""Reading run directories of earlier versions: the settings they did not record.

A setting added later gets, in an older run's configuration, the value that reproduces what
that version did (:meth:`Compat.upgrade_config`), so old runs still plot, export and resume.
No TensorFlow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from masktrainer.protocols import HELD_OUT_SETS

if TYPE_CHECKING:
    from masktrainer.methods.recipe import Recipe


class Compat:
    """The shared upgrades; a method adds its own in :meth:`upgrade_config`."""

    def upgrade_config(self, values: dict[str, Any], recipe: Recipe) -> dict[str, Any]:
        """Fill the settings a run directory of an earlier version lacks with the values that
        reproduce what that version did (``--augment``: ResNet20 had its shifts and flips;
        ``--eval_sets``: it evaluated the training split, val and test)."""
        if "augment" not in values:
            values = {**values, "augment": "shift_flip" if values.get("nettype") == "ResNet"
                      else "none"}
        if "eval_sets" not in values:
            values = {**values, "eval_sets": "val,test", "initial_eval": "full"}
        if "protocol" not in values:
            values = {**values, "protocol": infer_protocol(values, recipe)}
        return values


def infer_protocol(values: dict[str, Any], recipe: Recipe) -> str:
    """The protocol a run directory of a version before ``--protocol`` followed."""
    try:
        split, sets = recipe.original_settings(values)
    except (AttributeError, KeyError):  # a setting that version did not record
        return "custom"
    given = set(str(values.get("eval_sets", "")).split(","))
    quirks = bool(values.get("resnet_quirks"))
    if values.get("split") == split and set(sets.split(",")) <= given:
        return "original"
    if values.get("split") != "test" and not quirks and set(HELD_OUT_SETS) <= given:
        return "held_out"
    return "custom"

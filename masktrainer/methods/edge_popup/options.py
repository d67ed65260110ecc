"""The options edge-popup owns (no TensorFlow: the configuration and the layers read them)."""

from __future__ import annotations

from masktrainer.options import Option

SCALE_FAN_RULES = ("original", "kept")
KEEP_RATIO = Option(
    "keep_ratio", float, None, "EdgePopup, Biprop: fraction of weights KEPT per layer, in "
    "(0, 1] (the original's --prune-rate; default 0.5).", minimum=0.0, maximum=1.0, exclusive_minimum=True,
    group="edge_popup")
OPTIONS = (
    KEEP_RATIO,
    Option("scale_fan", bool, False, "EdgePopup, Biprop: scale the fan of the weight init (the "
           "original's --scale-fan).", group="edge_popup"),
    Option("scale_fan_rule", str, "original", "EdgePopup, Biprop --scale_fan: original = "
           "fan*(1-keep_ratio) as the original code; kept = fan*keep_ratio.",
           choices=SCALE_FAN_RULES, group="edge_popup"),
)

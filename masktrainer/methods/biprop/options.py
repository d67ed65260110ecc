"""The options biprop uses (no TensorFlow: the configuration and the layers read them).

``--keep_ratio``, ``--scale_fan`` and ``--scale_fan_rule`` mean for biprop what they
mean for edge-popup (its code is hidden-networks' with the weights binarised), so biprop
declares edge-popup's very options rather than copies: one declaration, one check.
"""

from __future__ import annotations

from masktrainer.methods.edge_popup.options import KEEP_RATIO
from masktrainer.methods.edge_popup.options import OPTIONS as EDGE_POPUP_OPTIONS
from masktrainer.options import Option

_SHARED = {option.name: option for option in EDGE_POPUP_OPTIONS}
SCALE_FAN = _SHARED["scale_fan"]
SCALE_FAN_RULE = _SHARED["scale_fan_rule"]

#: How alpha's denominator is counted: the original code's int(keep_ratio * n), or the
#: number of weights the mask actually keeps, n - int((1 - keep_ratio) * n).
ALPHA_RULES = ("original", "kept")
ALPHA_RULE = Option(
    "alpha_rule", str, "original", "Biprop: alpha = sum of the kept |weights| divided by "
    "int(keep_ratio*n) as the original code (original) or by the kept count (kept); they "
    "differ by one where keep_ratio*n is not a whole number.", choices=ALPHA_RULES,
    group="biprop")
OPTIONS = (KEEP_RATIO, SCALE_FAN, SCALE_FAN_RULE, ALPHA_RULE)

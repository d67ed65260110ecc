"""The options supermask sampling owns (no TensorFlow: the configuration and the layers read them)."""

from __future__ import annotations

from masktrainer.options import Option

EVAL_MASKS = ("threshold", "expected", "sample")
EVAL_MASK = Option("eval_mask", str, None, "SupermaskSampling: the mask at evaluation: "
                   "expected (sigmoid(score) as a soft mask: the sampled networks' mean; "
                   "default), sample (a fresh Bernoulli sample, as the original) or threshold "
                   "(sigmoid(score) > 0.5: one fixed subnetwork, 1 bit per weight in an export).", choices=EVAL_MASKS,
                   group="supermask_sampling")
SCORE_INIT_CONSTANT = Option("score_init_constant", float, None, "SupermaskSampling: start "
                             "every score at this value (the original's "
                             "--score-init-constant; default U(+-1/sqrt(fan_in))).",
                             group="supermask_sampling")
OPTIONS = (EVAL_MASK, SCORE_INIT_CONSTANT)

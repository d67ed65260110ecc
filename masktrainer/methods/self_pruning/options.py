"""The options self-pruning and sign flipping own (no TensorFlow: the configuration reads them)."""

from __future__ import annotations

from masktrainer.methods.self_pruning.binary_scale import BINARY_SCALES
from masktrainer.nn.seeds import SEEDING_SCHEMES
from masktrainer.options import Option

MASK_TYPES = ("mask", "mask_rs", "flip")
# MaskTrainer.py evaluates the training split, val and test before training, then val
# (Keras' validation_data) and test after every epoch.
EVAL_SETS = "val,test"
INITIAL_EVAL = "full"
OPTIONS = (
    Option("masktype", str, None, "Score->mask function: mask ([s>0]), mask_rs "
           "([s>0]*N/(1+nnz)), flip (sign s). Default: flip for *Flipping, else mask.",
           choices=MASK_TYPES, group="self_pruning"),
    Option("selu_is_elu", bool, False, "Reproduce the original bug where --activation selu "
           "computes ELU.", group="self_pruning"),
    Option("binary_input_scale", str, "original", "Input multiplier for binary weights: the "
           "original literals or the product of sqrt(2/fan_in).", choices=BINARY_SCALES,
           group="self_pruning"),
    Option("seeding", str, "independent", "independent: own seeds per layer, kernel and "
           "score; original: the original's shared-seed structure, and (he/glorot/normal "
           "kernels) its TF1 coupling: the score drawn from the kernel's random bits.",
           choices=SEEDING_SCHEMES, group="self_pruning"),
)

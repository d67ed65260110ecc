"""The recipe hidden-networks (Ramanujan et al.'s code) shares among the methods it holds:
edge-popup, supermask sampling and its dense baselines set their defaults from it. A plain
module, not a method (the registry only takes subpackages with a ``METHOD``). No TensorFlow."""

from __future__ import annotations

from masktrainer.data.preprocessing import FIXED_NORMALIZATIONS
from masktrainer.options import Draft

# hidden-networks evaluates its validation loader, which is the official test set, after every
# epoch and never before.
EVAL_SETS = "test"
INITIAL_EVAL = "none"


def imagenet_recipe(draft: Draft, lr: float) -> None:
    """hidden-networks' largescale configs: SGD momentum 0.875, 5 warm-up epochs then cosine,
    label smoothing 0.1, L2 2^-15, batch 256, 100 epochs."""
    draft.put("lr", lr)
    draft.put("momentum", 0.875)
    draft.put("warmup_epochs", 5)
    draft.put("label_smoothing", 0.1)
    draft.put("weight_decay", 2.0**-15)
    draft.put("batchsize", 256)


def hidden_networks_data(draft: Draft) -> None:
    """hidden-networks' data pipeline: its fixed normalisation, crop + flip on CIFAR-10."""
    if draft.dataset in FIXED_NORMALIZATIONS["hidden_networks"]:
        draft.put("normalization", "hidden_networks")
    draft.put("augment", "crop_flip" if draft.dataset == "cifar10" else "none")


def hidden_networks_evaluation(draft: Draft) -> None:
    """hidden-networks' protocol: it trains on every training image, evaluates its
    validation loader (the official test set) after every epoch, never before training,
    and reports the best test accuracy."""
    draft.put("split", "test")
    draft.put("eval_sets", EVAL_SETS)
    draft.put("initial_eval", INITIAL_EVAL)

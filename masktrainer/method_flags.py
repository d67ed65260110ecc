"""Command-line flags of the optimiser, the data split and the edge-popup / slot-machine methods.

Declared here so :mod:`masktrainer.cli` keeps the original's flags readable.
Every flag defaults to ``None`` ("the chosen train type's recipe", resolved in
:mod:`masktrainer.method_config`) or to a neutral value.
"""

from __future__ import annotations

from absl import flags

from masktrainer import method_config as M


def define_method_flags(fv: flags.FlagValues) -> None:
    """Declare the method flags on ``fv``."""
    flags.DEFINE_enum("optimizer", None, M.OPTIMIZERS,
                      "Default: adam (self-pruning), sgd (EdgePopup, SlotMachine). sgd is "
                      "PyTorch's: momentum buffer, L2 --weight_decay added to the gradient.",
                      flag_values=fv)
    flags.DEFINE_float("momentum", None, "SGD momentum (default 0.9).", flag_values=fv)
    flags.DEFINE_float("weight_decay", None,
                       "L2 on the trained variables (the scores for EdgePopup/SlotMachine). "
                       "Default: 1e-4 EdgePopup, 0 SlotMachine (1e-4 for VGG19), 0 otherwise.",
                       flag_values=fv)
    flags.DEFINE_enum("lr_schedule", None, M.LR_SCHEDULES,
                      "Per-epoch learning rate. Default: cosine (EdgePopup), multistep at "
                      "80 (SlotMachine VGG19), constant otherwise.", flag_values=fv)
    flags.DEFINE_string("lr_milestones", None,
                        "Epochs where multistep multiplies the rate by 0.1, e.g. 80 or 60,120.",
                        flag_values=fv)
    flags.DEFINE_enum("split", None, M.SPLITS,
                      "Validation split: head (first --validation_size training images) or "
                      "slot_machines (the original's index split: MNIST 50k/10k, CIFAR-10 "
                      "45k/5k) or test (train on every training image and validate on the "
                      "test set, as the LaPerm notebooks did: selection on test). Default: "
                      "slot_machines for SlotMachine on mnist/cifar10, head otherwise.",
                      flag_values=fv)
    flags.DEFINE_string("split_dir", None,
                        "Folder with slot_machines_{mnist,cifar10}_permutation.npy (default: "
                        "the packaged, checksum-verified copy).", flag_values=fv)
    flags.DEFINE_float("width_mult", 1.0, "Width multiplier of Conv4Wide/Conv6Wide.",
                       flag_values=fv)
    flags.DEFINE_float("keep_ratio", None,
                       "EdgePopup: fraction of weights KEPT per layer, in (0, 1] (the "
                       "original's --prune-rate; default 0.5).", flag_values=fv)
    flags.DEFINE_bool("scale_fan", False,
                      "EdgePopup: scale the fan of the weight init (the original's --scale-fan).",
                      flag_values=fv)
    flags.DEFINE_enum("scale_fan_rule", "original", M.SCALE_FAN_RULES,
                      "EdgePopup --scale_fan: original = fan*(1-keep_ratio) as the original "
                      "code; kept = fan*keep_ratio.", flag_values=fv)
    flags.DEFINE_integer("slots", None, "SlotMachine: K values per connection (>= 2; default 8).",
                         flag_values=fv)
    flags.DEFINE_enum("selection", None, M.SELECTIONS,
                      "SlotMachine: greedy (argmax of the scores, default) or probabilistic "
                      "(sample from softmax of the scores).", flag_values=fv)
    flags.DEFINE_enum("eval_selection", None, M.EVAL_SELECTIONS,
                      "SlotMachine probabilistic: evaluate with the argmax slot (default) or keep "
                      "sampling as the original does.", flag_values=fv)
    flags.DEFINE_string("finetune_from", None,
                        "SlotMachine: train the weights of the argmax selection of this finished "
                        "run directory (default lr 0.01, base epochs + 100).", flag_values=fv)

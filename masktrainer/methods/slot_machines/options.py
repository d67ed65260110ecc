"""The options Slot Machines owns (no TensorFlow: the configuration and the layers read them)."""

from __future__ import annotations

from masktrainer.options import Option

SELECTIONS = ("greedy", "probabilistic")  # what a slot layer does
# --selection: the original's --method (learned: train the weights of a random selection).
MODES = (*SELECTIONS, "learned")
EVAL_SELECTIONS = ("argmax", "sample")
# train.py evaluates the held-out validation split after every epoch (not before training),
# the test set never; the paper reports test accuracy at the best-validation epoch, so both.
EVAL_SETS = "val,test"
INITIAL_EVAL = "none"
SLOTS = Option("slots", int, None, "SlotMachine: K values per connection (>= 2; default 8).",
               minimum=2, maximum=1024, why="K=1 leaves nothing to select; each connection "
               "holds K weights and K scores, so memory grows K-fold", group="slot_machines")
SELECTION = Option("selection", str, None, "SlotMachine: greedy (argmax of the scores, default), "
                   "probabilistic (sample from softmax of the scores) or learned (train the "
                   "weights of a uniformly random selection: the original's learned baseline; "
                   "lr 0.01, base epochs + 100).", choices=MODES, group="slot_machines")
EVAL_SELECTION = Option("eval_selection", str, None, "SlotMachine probabilistic: evaluate with "
                        "the argmax slot (default) or keep sampling as the original does.",
                        choices=EVAL_SELECTIONS, group="slot_machines")
OPTIONS = (
    SLOTS, SELECTION, EVAL_SELECTION,
    Option("bn", bool, None, "SlotMachine: non-affine BatchNorm after every conv (the "
           "original's --bn; default: VGG19 only).", group="slot_machines"),
    Option("selection_every", int, None, "SlotMachine: keep the selection every N epochs (and "
           "at the last) in RUN_DIR/selections/ for --finetune_epoch (default 10, the "
           "original's checkpoint period; 0: the last only).", minimum=0, maximum=1_000_000,
           why="far above any recipe: a larger count is a typo", group="slot_machines"),
    Option("finetune_from", str, None, "SlotMachine: train the weights of the argmax "
           "selection of this finished run directory (default lr 0.01, base epochs + 100).",
           group="slot_machines", folder=True),
    Option("finetune_epoch", int, None, "SlotMachine --finetune_from: the source epoch whose "
           "selection is fine-tuned (default 100, the original's).", minimum=0, maximum=1_000_000,
           why="far above any recipe: a larger count is a typo",
           group="slot_machines"),
    Option("finetune_any_selection", bool, False, "SlotMachine --finetune_from: also accept a "
           "probabilistic source run (the original fine-tunes greedy runs).",
           group="slot_machines"),
)

"""The options Slot Machines owns (no TensorFlow: the configuration and the layers read them)."""

from __future__ import annotations

from masktrainer.options import Option

SELECTIONS = ("greedy", "probabilistic")
EVAL_SELECTIONS = ("argmax", "sample")
SLOTS = Option("slots", int, None, "SlotMachine: K values per connection (>= 2; default 8).",
               minimum=2, why="K=1 leaves nothing to select", group="slot_machines")
SELECTION = Option("selection", str, None, "SlotMachine: greedy (argmax of the scores, default) "
                   "or probabilistic (sample from softmax of the scores).", choices=SELECTIONS,
                   group="slot_machines")
EVAL_SELECTION = Option("eval_selection", str, None, "SlotMachine probabilistic: evaluate with "
                        "the argmax slot (default) or keep sampling as the original does.",
                        choices=EVAL_SELECTIONS, group="slot_machines")
OPTIONS = (
    SLOTS, SELECTION, EVAL_SELECTION,
    Option("finetune_from", str, None, "SlotMachine: train the weights of the argmax "
           "selection of this finished run directory (default lr 0.01, base epochs + 100).",
           group="slot_machines"),
)

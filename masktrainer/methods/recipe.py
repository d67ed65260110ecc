"""A method's recipe: what it adds to a run's configuration, without TensorFlow.

Its options and choices, its recipe as defaults (:meth:`Recipe.fill`), its protocol (what the
original evaluates), its checks, the facts a configuration derives from it (the run config's
``method``, the architecture, what trains, the mask penalty), the run folder's naming and the
console description. A command line is checked with these before TensorFlow loads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from masktrainer.nn.architectures import NETTYPES, original_dataset
from masktrainer.options import Draft, Option
from masktrainer.protocols import HELD_OUT_SETS

if TYPE_CHECKING:  # types only: the config module itself is built from the methods
    from masktrainer.config import RunConfig


class Recipe:
    """The configuration side of a method (the shared behaviour; a method overrides hooks)."""

    options: ClassVar[tuple[Option, ...]] = ()  # the flags this method owns
    initializers: ClassVar[tuple[str, ...]] = ()  # its --initializer choices
    nettypes: ClassVar[tuple[str, ...]] = NETTYPES  # the --nettype values it builds
    lr_schedules: ClassVar[tuple[str, ...]] = ()  # --lr_schedule values of its own

    def fill(self, draft: Draft) -> None:
        """Fill the unset settings: the data set, the method's recipe, then shared fallbacks."""
        draft.put("dataset", original_dataset(draft.nettype))
        # ImageNet holds no images out (its official validation set is the test set), and
        # --resnet_quirks reproduces a ResNet that validated on the test set.
        draft.put("protocol", "original" if draft.dataset == "imagenet2012"
                  or draft.resnet_quirks else "held_out")
        self.defaults(draft)
        if draft.protocol == "held_out":
            self.held_out_evaluation(draft)
        self.original_evaluation(draft)  # what is still unset
        draft.put("normalization", "train_stats")
        draft.put("augment", "none")
        draft.put("warmup_epochs", 0)
        draft.put("label_smoothing", 0.0)
        if draft.optimizer == "sgd":
            draft.put("momentum", 0.9)

    def defaults(self, draft: Draft) -> None:
        """Put the method's recipe into the unset settings (``draft.put`` keeps given values)."""

    def original_evaluation(self, draft: Draft) -> None:
        """The original's protocol (:mod:`masktrainer.protocols`): its split, the sets it
        evaluates each epoch and what it evaluates before training."""
        draft.put("split", "test" if draft.dataset == "imagenet2012" else "head")
        draft.put("eval_sets", "val,test")
        draft.put("initial_eval", "sets")

    def held_out_evaluation(self, draft: Draft) -> None:
        """The held-out protocol: train on the training head, select on val, report test."""
        draft.put("split", "head")
        draft.put("eval_sets", ",".join(HELD_OUT_SETS))

    def original_settings(self, values: dict[str, Any]) -> tuple[str, str]:
        """(split, eval_sets) of the original's protocol for the settings ``values``."""
        draft = Draft({**values, "split": None, "eval_sets": None, "initial_eval": None})
        self.original_evaluation(draft)
        return draft.split, draft.eval_sets

    def validate(self, cfg: RunConfig) -> None:
        """Raise ConfigError for settings this method cannot run with."""

    def kind(self, cfg: RunConfig) -> str | None:
        """The run config's ``method`` when the method has modes (Slot Machines' fine-tuning);
        None: the method's key."""
        return None

    def architecture(self, cfg: RunConfig) -> str:
        """The registry name of the network this run builds."""
        return cfg.nettype

    def trainable(self, cfg: RunConfig) -> tuple[bool, bool]:
        """(weights trainable, scores trainable)."""
        return False, True

    def alpha(self, cfg: RunConfig) -> float:
        """Coefficient of a per-layer penalty on the mask (self-pruning's Min*)."""
        return 0.0

    def run_folder(self, cfg: RunConfig) -> Path:
        """The folder (below ``--outputpath``) for runs of this configuration."""
        raise NotImplementedError

    def describe(self, cfg: RunConfig) -> str:
        """The method's settings for the run's first console line."""
        return ""

    def example(self) -> dict[str, Any]:
        """Settings of a small, fast run of this method (smoke and contract tests)."""
        return {}

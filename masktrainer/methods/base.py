"""The interface every method implements.

A :class:`Method` is one object per method (``METHOD`` in the method's
subpackage; :mod:`masktrainer.methods` finds them). It declares what the
method adds to a run's configuration — train types, its own options, its
initializers, its recipe as defaults, its checks, the run folder's naming and
the console description — without importing TensorFlow, so a command line is
checked before TensorFlow loads. The runtime hooks (layers, model, optimizer,
learning rate, recorder) import TensorFlow when called.

Everything outside ``masktrainer/methods/`` asks the run's method; nothing
there tests a train type.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from masktrainer.errors import ConfigError
from masktrainer.nn.architectures import NETTYPES, original_dataset
from masktrainer.options import Draft, Option
from masktrainer.protocols import HELD_OUT_SETS
from masktrainer.methods.schedules import SHARED_SCHEDULES, shared_learning_rate
from masktrainer.text import choice_error

if TYPE_CHECKING:  # types only: the config module itself is built from the methods
    import keras

    from masktrainer.config import RunConfig
    from masktrainer.methods.recording import Recorder
    from masktrainer.nn.layer_factory import LayerFactory


class Method:
    """A training method: its configuration (TF-free) and its runtime hooks."""

    key: ClassVar[str]  # recorded as config.json's "method"
    title: ClassVar[str]  # "edge-popup (Ramanujan et al. 2020)"
    summary: ClassVar[str] = ""  # what trains, for --help
    train_types: ClassVar[tuple[str, ...]]  # --traintype values
    position: ClassVar[int] = 100  # order in --traintype and --help
    options: ClassVar[tuple[Option, ...]] = ()  # the flags this method owns
    uses: ClassVar[frozenset[str]] = frozenset()  # flags of other methods it accepts too
    initializers: ClassVar[tuple[str, ...]] = ()  # its --initializer choices
    nettypes: ClassVar[tuple[str, ...]] = NETTYPES  # the --nettype values it builds
    lr_schedules: ClassVar[tuple[str, ...]] = ()  # --lr_schedule values of its own
    label: ClassVar[str] = ""  # how errors name its own models and schedules ("LaPerm notebook")
    keras_modules: ClassVar[tuple[str, ...]] = ()  # importing these registers its Keras objects
    metadata_keys: ClassVar[tuple[str, ...]] = ()  # config.json entries of run_metadata
    loss_over_batches: ClassVar[bool] = False  # evaluation loss: mean over batches (not samples)
    upgraded_eval_sets: ClassVar[str] = "val,test"  # what runs of versions before --eval_sets did

    # -- configuration (no TensorFlow) ---------------------------------------------------
    def accepts(self, option: str) -> bool:
        """True if ``--option`` may be set for this method (its own, or listed in ``uses``)."""
        return option in self.uses or any(o.name == option for o in self.options)

    def fill(self, draft: Draft) -> None:
        """Fill the unset settings: the data set, the method's recipe, then shared fallbacks."""
        draft.put("dataset", self.default_dataset(draft.nettype))
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

    def default_dataset(self, nettype: str) -> str:
        return original_dataset(nettype)

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

    def infer_protocol(self, values: dict[str, Any]) -> str:
        """The protocol a run directory of a version before ``--protocol`` followed."""
        try:
            split, sets = self.original_settings(values)
        except (AttributeError, KeyError):  # a setting that version did not record
            return "custom"
        given = set(str(values.get("eval_sets", "")).split(","))
        quirks = bool(values.get("resnet_quirks"))
        if values.get("split") == split and set(sets.split(",")) <= given:
            return "original"
        if values.get("split") != "test" and not quirks and set(HELD_OUT_SETS) <= given:
            return "held_out"
        return "custom"

    def upgrade_config(self, values: dict[str, Any]) -> dict[str, Any]:
        """Fill the settings a run directory of an earlier version lacks with the values that
        reproduce what that version did (``--augment``: ResNet20 had its shifts and flips)."""
        if "augment" not in values:
            values = {**values, "augment": "shift_flip" if values.get("nettype") == "ResNet"
                      else "none"}
        if "eval_sets" not in values:  # it evaluated the training split, val and test
            values = {**values, "eval_sets": self.upgraded_eval_sets, "initial_eval": "full"}
        if "protocol" not in values:
            values = {**values, "protocol": self.infer_protocol(values)}
        return values

    def defaults(self, draft: Draft) -> None:
        """Put the method's recipe into the unset settings (``draft.put`` keeps given values)."""

    def validate(self, cfg: RunConfig) -> None:
        """Raise ConfigError for settings this method cannot run with."""

    def kind(self, cfg: RunConfig) -> str:
        """config.json's ``method`` (a method may have modes, e.g. Slot Machines' fine-tuning)."""
        return self.key

    def architecture(self, cfg: RunConfig) -> str:
        """The registry name of the network this run builds."""
        return cfg.nettype

    def batchnorm(self, cfg: RunConfig) -> bool | None:
        """Non-affine BN after every conv of a stack (None: the architecture's own choice)."""
        return None

    def affine_batchnorm(self, cfg: RunConfig) -> bool:
        """Whether hidden-networks' ResNets learn their BN (only the learned-weights baselines)."""
        return False

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

    # -- runtime (imports TensorFlow) -------------------------------------------------------
    def layers(self, cfg: RunConfig) -> LayerFactory:
        """The factory of the method's dense and conv layers."""
        raise NotImplementedError(f"{type(self).__name__} builds no layers of its own")

    def prepare(self, cfg: RunConfig) -> Any:
        """Read and check what the run needs beyond data before anything is written."""
        return None

    def run_metadata(self, cfg: RunConfig, prepared: Any) -> dict[str, Any]:
        """Extra config.json entries of a new run."""
        return {}

    def build_model(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int,
                    run_seed: int, prepared: Any = None) -> keras.Model:
        """The model of ``cfg`` before training, seeded from ``run_seed``."""
        from masktrainer.nn.build import build_architecture

        name = "ResNet20" if cfg.nettype == "ResNet" else cfg.nettype
        return build_architecture(
            self.architecture(cfg), input_shape, num_classes, self.layers(cfg), run_seed,
            activation=cfg.activation, seeding=cfg.seeding, width_mult=cfg.width_mult,
            resnet_quirks=cfg.resnet_quirks, name=f"{name}_{cfg.traintype}",
            augmentation=training_augmentation(cfg, run_seed), batchnorm=self.batchnorm(cfg),
            affine_batchnorm=self.affine_batchnorm(cfg),
        )

    def make_optimizer(self, cfg: RunConfig, run_seed: int) -> keras.optimizers.Optimizer:
        from masktrainer.methods.optim import shared_optimizer

        return shared_optimizer(cfg.optimizer, cfg.lr, cfg.momentum, cfg.weight_decay)

    def learning_rate(self, cfg: RunConfig, epoch: int) -> float:
        """The rate of 0-based ``epoch``."""
        return shared_learning_rate(cfg.lr_schedule, cfg.lr, epoch, cfg.maxepochs,
                                    cfg.lr_milestones, cfg.resnet_quirks, cfg.warmup_epochs)

    def recorder(self, cfg: RunConfig, model: keras.Model) -> Recorder:
        """What the run records per epoch and saves (see :mod:`masktrainer.methods.recording`)."""
        from masktrainer.methods.recording import Recorder

        return Recorder(model)

    def input_scale(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int) -> float:
        """A factor on every input pixel (self-pruning's ``binary`` weights)."""
        return 1.0

    # -- a finished run (compare tables) ----------------------------------------------------
    def changed_fraction(self, cfg: RunConfig, metrics: dict[str, Any],
                         run_dir: Path) -> float | None:
        """The fraction of connections whose effective weight at the end differs from the
        initial random network's: 1 when the weights themselves train; masked layers: the
        pruned (zero) and flipped (negative) masks of the last epoch; None if not recorded."""
        if self.trainable(cfg)[0]:
            return 1.0
        from masktrainer.methods.counts import changed_from_counts

        return changed_from_counts(metrics)


def training_augmentation(cfg: RunConfig, run_seed: int):
    """The run's ``--augment`` layers (None for ``none``), padding crops with a black pixel."""
    from masktrainer.data.preprocessing import normalized_black
    from masktrainer.nn.augment import augmentation

    return augmentation(cfg.augment, nettype=cfg.nettype, seed=run_seed,
                        fill=normalized_black(cfg.normalization, cfg.dataset))


def group_root(cfg: RunConfig) -> Path:
    """``<outputpath>/<traintype>/<nettype>[_x<width_mult>]``: where a method's folders start."""
    net = cfg.nettype if cfg.width_mult == 1.0 else f"{cfg.nettype}_x{cfg.width_mult}"
    return Path(cfg.outputpath) / cfg.traintype / net


def check_choice(label: str, value: Any, choices: Sequence[str], context: str = "") -> None:
    """ConfigError unless ``value`` is one of ``choices`` (``context`` ends the message)."""
    if value not in choices:
        raise ConfigError(choice_error(label, value, choices, context))


def all_lr_schedules(methods: Sequence[Method]) -> tuple[str, ...]:
    """The shared schedules, then every method's own."""
    return SHARED_SCHEDULES + tuple(s for m in methods for s in m.lr_schedules)

"""A method's runtime: its layers, model, optimizer, learning rate and recorder.

The hooks import TensorFlow when called (importing this module does not). The trainer asks
them in this order: :meth:`Runtime.prepare` (what the run reads beyond data, before anything
is written), :meth:`Runtime.run_metadata`, :meth:`Runtime.build_model` (from
:meth:`Runtime.layers`), :meth:`Runtime.make_optimizer`, :meth:`Runtime.recorder`, and
:meth:`Runtime.learning_rate` every epoch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Sequence

from masktrainer.methods.schedules import shared_learning_rate

if TYPE_CHECKING:
    import keras

    from masktrainer.config import RunConfig
    from masktrainer.methods.recording import Recorder
    from masktrainer.nn.layer_factory import LayerFactory


class Runtime:
    """The runtime side of a method (the shared behaviour; a method overrides hooks)."""

    keras_modules: ClassVar[tuple[str, ...]] = ()  # importing these registers its Keras objects
    metadata_keys: ClassVar[tuple[str, ...]] = ()  # run config entries of run_metadata
    loss_over_batches: ClassVar[bool] = False  # evaluation loss: mean over batches (not samples)

    def layers(self, cfg: RunConfig) -> LayerFactory:
        """The factory of the method's dense and conv layers."""
        raise NotImplementedError(f"{type(self).__name__} builds no layers of its own")

    def prepare(self, cfg: RunConfig) -> Any:
        """Read and check what the run needs beyond data before anything is written."""
        return None

    def run_metadata(self, cfg: RunConfig, prepared: Any) -> dict[str, Any]:
        """Extra run config entries of a new run (named in ``metadata_keys``)."""
        return {}

    def network_options(self, cfg: RunConfig) -> dict[str, Any]:
        """Options of the shared build the method sets (``batchnorm``: non-affine BN after
        every conv; ``affine_batchnorm``: hidden-networks' ResNets learn their BN)."""
        return {}

    def build_model(self, cfg: RunConfig, input_shape: Sequence[int], num_classes: int,
                    run_seed: int, prepared: Any = None) -> keras.Model:
        """The model of ``cfg`` before training, seeded from ``run_seed``."""
        from masktrainer.nn.build import build_architecture

        name = "ResNet20" if cfg.nettype == "ResNet" else cfg.nettype
        options = {"batchnorm": None, "affine_batchnorm": False, **self.network_options(cfg)}
        return build_architecture(
            cfg.architecture, input_shape, num_classes, self.layers(cfg), run_seed,
            activation=cfg.activation, seeding=cfg.seeding, width_mult=cfg.width_mult,
            resnet_quirks=cfg.resnet_quirks, name=f"{name}_{cfg.traintype}",
            augmentation=training_augmentation(cfg, run_seed), **options,
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


def training_augmentation(cfg: RunConfig, run_seed: int):
    """The run's ``--augment`` layers (None for ``none``), padding crops with a black pixel."""
    from masktrainer.data.preprocessing import normalized_black
    from masktrainer.nn.augment import augmentation

    return augmentation(cfg.augment, nettype=cfg.nettype, seed=run_seed,
                        fill=normalized_black(cfg.normalization, cfg.dataset))

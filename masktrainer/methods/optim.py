"""The shared optimisers: Adam, and PyTorch's SGD with coupled L2.

``L2MomentumSGD`` is PyTorch's ``SGD(momentum, weight_decay)`` (dampening 0,
no Nesterov): the L2 term is added to the gradient *before* the momentum
buffer, ``g <- g + wd * p; buf <- momentum * buf + g; p <- p - lr * buf``.
This is what edge-popup and Slot Machines use (coupled L2, not Keras' or
AdamW's decoupled decay); since only trained variables reach the optimiser,
the decay acts on the scores of edge-popup / slot-machine runs. Keras' own SGD
folds the learning rate into the buffer, which differs once the rate changes
(cosine schedule).

A run's optimiser is its method's (``Runtime.make_optimizer``; LaPerm wraps
Adam); the learning rate is set once at the start of every epoch, as the
originals do (``Runtime.learning_rate``, :mod:`masktrainer.methods.schedules`).
"""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

_PACKAGE = "masktrainer"


@keras.saving.register_keras_serializable(package=_PACKAGE)
class L2MomentumSGD(keras.optimizers.Optimizer):
    """SGD with heavy-ball momentum and L2 added to the gradient (PyTorch semantics)."""

    def __init__(
        self,
        learning_rate: float = 0.1,
        momentum: float = 0.9,
        l2: float = 0.0,
        name: str = "l2_momentum_sgd",
        **kwargs: Any,
    ) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0.0 <= float(momentum) < 1.0:
            raise ValueError(f"momentum must lie in [0, 1), got {momentum!r}")
        if not float(l2) >= 0.0:
            raise ValueError(f"l2 must be >= 0, got {l2!r}")
        self.momentum = float(momentum)
        self.l2 = float(l2)

    def build(self, variables) -> None:
        if self.built:
            return
        super().build(variables)
        self.buffers = []
        if self.momentum:
            self.buffers = [
                self.add_variable_from_reference(variable, "momentum") for variable in variables
            ]

    def update_step(self, gradient, variable, learning_rate) -> None:
        lr = ops.cast(learning_rate, variable.dtype)
        step = ops.cast(gradient, variable.dtype)
        if self.l2:
            step = ops.add(step, ops.multiply(self.l2, variable))
        if self.momentum:
            buffer = self.buffers[self._get_variable_index(variable)]
            self.assign(buffer, ops.add(ops.multiply(self.momentum, buffer), step))
            step = buffer
        self.assign_sub(variable, ops.multiply(lr, step))

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "momentum": self.momentum, "l2": self.l2}


def shared_optimizer(name: str, lr: float, momentum: float | None = None,
                     weight_decay: float | None = None) -> keras.optimizers.Optimizer:
    """``adam`` (Keras defaults, no weight decay) or ``sgd`` (:class:`L2MomentumSGD`)."""
    if name == "adam":
        return keras.optimizers.Adam(learning_rate=lr)
    if name == "sgd":
        return L2MomentumSGD(lr, momentum=momentum or 0.0, l2=weight_decay or 0.0)
    raise ValueError(f"unknown optimizer {name!r}")

"""Checkpoints a method's authors released for its own models (``evaluate --weights``).

A method that has some declares them (``Method.checkpoints``): the models they fit, whose they
are, the data settings of the notebook or script that trained them, and how to build the model
that receives their arrays. :mod:`masktrainer.evaluate` asks the declaration, never a method.
The declaration imports no TensorFlow; :meth:`ReleasedCheckpoints.build_model` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    import keras



class ReleasedCheckpoints:
    """The released checkpoints of one method's models."""

    nets: ClassVar[tuple[str, ...]]  # the --nettype values they exist for
    source: ClassVar[str]  # whose they are ("Train-by-Reconnect")
    models: ClassVar[str]  # what trained them: "the notebook model F1" ("notebook")

    def settings(self, nettype: str) -> dict[str, Any]:
        """The settings (its data side) of the run that trained ``nettype``'s checkpoint:
        the caller makes them a RunConfig (methods sit below the configuration)."""
        raise NotImplementedError

    def input_shape(self, nettype: str) -> tuple[int, ...]:
        """The shape of one input image of ``nettype``."""
        raise NotImplementedError

    def build_model(self, nettype: str, input_shape: tuple[int, ...],
                    num_classes: int) -> keras.Model:
        """A fresh model of ``nettype`` that receives the checkpoint's arrays, layer by layer."""
        raise NotImplementedError

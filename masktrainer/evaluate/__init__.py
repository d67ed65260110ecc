"""``python -m masktrainer evaluate``: released LaPerm checkpoints and finished runs on the test set.

:mod:`~masktrainer.evaluate.h5` reads Keras 2 ``.h5`` weight files (no TensorFlow),
:mod:`~masktrainer.evaluate.scoring` puts them into the notebook models and scores the
test split, :mod:`~masktrainer.evaluate.cli` is the command.
"""

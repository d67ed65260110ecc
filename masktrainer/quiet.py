"""A quiet start: TensorFlow's C++ start-up lines are dropped unless the user asks for them.

Loading TensorFlow writes a few lines straight to file descriptor 2 from C++, before its
own log level applies (absl's "All log messages before absl::InitializeLog()" warning and
the CUDA stub's "Could not find cuda drivers" notice, once per library), and the first look
at the devices adds a ``failed call to cuInit`` error on a machine without a GPU.
:func:`import_tensorflow` imports TensorFlow and lists the devices with file descriptor 2
captured, then writes back every captured line but those. A user who sets
``TF_CPP_MIN_LOG_LEVEL`` gets TensorFlow's own output untouched; otherwise it is set to 2
(warnings and notices off, errors kept). Nothing here imports TensorFlow at module level.
Importing this module also keeps Keras' and matplotlib's files out of ``$HOME``
(:mod:`masktrainer.home`).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import re
import sys
import tempfile
from typing import Iterator

from masktrainer.home import keep_out_of_home

LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
#: Whether the user chose TensorFlow's C++ log level (read once, before it is defaulted).
USER_LOG_LEVEL = os.environ.get(LOG_LEVEL_VARIABLE)
os.environ.setdefault(LOG_LEVEL_VARIABLE, "2")
keep_out_of_home()  # before Keras or matplotlib is imported: no ~/.keras, no matplotlib cache

_ABSL_PRELUDE = "WARNING: All log messages before absl::InitializeLog() is called"
# "I0000 00:00:1796148692.404877   19934 cudart_stub.cc:31] ..." from these sources only.
_NATIVE_LINE = re.compile(r"^[IWE]\d{4} [\d:.]+\s+\d+ (?P<source>[\w.]+):\d+\] ")
_START_UP_SOURCES = frozenset({
    "cudart_stub.cc", "cuda_platform.cc", "cuda_executor.cc", "cuda_diagnostics.cc",
    "cpu_feature_guard.cc", "port.cc", "cuda_dnn.cc", "cuda_fft.cc", "cuda_blas.cc",
    "computation_placer.cc",
})
_CONTINUATIONS = ("To enable the following instructions:",
                  "To enable them in other operations, rebuild TensorFlow")


def is_start_up_noise(line: str) -> bool:
    """True for a line TensorFlow's native start-up writes whatever the program does."""
    if line.startswith(_ABSL_PRELUDE) or line.startswith(_CONTINUATIONS):
        return True
    match = _NATIVE_LINE.match(line)
    return match is not None and match.group("source") in _START_UP_SOURCES


@contextlib.contextmanager
def filtered_stderr() -> Iterator[None]:
    """Capture file descriptor 2 for the block; afterwards write back all but the noise."""
    if USER_LOG_LEVEL is not None:  # the user asked for TensorFlow's own output
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:  # no usable descriptor 2: nothing to filter
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as capture:
        sys.stderr.flush()
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode("utf-8", "replace").splitlines(True)
                    if not is_start_up_noise(line)]
            if kept:
                sys.stderr.write("".join(kept))
                sys.stderr.flush()


def import_tensorflow() -> None:
    """Import TensorFlow and Keras and look at the devices once, quietly."""
    with filtered_stderr():
        import keras  # noqa: F401
        import tensorflow as tf

        tf.config.list_physical_devices()


@contextlib.contextmanager
def unrestored_values_unsaid() -> Iterator[None]:
    """Around a checkpoint read that may fail: TensorFlow's restore bookkeeping, dropped with
    the failure, logs "being deleted with unrestored values" WARNING lines when it is
    collected; it is collected here, with the ``tensorflow`` logger's warnings off, so the
    caller's one-line error is all the user sees. Errors are still logged."""
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(max(level, logging.ERROR))
    try:
        yield
    finally:
        gc.collect()  # the failed restore's objects are freed (their __del__ logs) here
        logger.setLevel(level)

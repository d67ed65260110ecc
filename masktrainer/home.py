"""Nothing written into ``$HOME`` that the user did not ask for.

Keras writes ``~/.keras/keras.json`` when it is first imported, and matplotlib creates its
config folder and writes a font cache (``~/.config/matplotlib``, ``~/.cache/matplotlib``): a
training or plotting command should leave no such files behind. :func:`keep_out_of_home`,
run before either library is imported, points them at a private temporary folder (removed
when the process ends) unless the user chose a place (``KERAS_HOME``, ``MPLCONFIGDIR``) or
already has those folders, whose settings are then used exactly as before.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path


def keep_out_of_home() -> None:
    """Set ``KERAS_HOME``/``MPLCONFIGDIR`` to a private temporary folder where unset and the
    user has no folder of their own for them."""
    try:
        home = Path.home()
    except (RuntimeError, KeyError):  # no home folder at all: nothing to protect
        return
    config = Path(os.environ.get("XDG_CONFIG_HOME") or home / ".config")
    cache = Path(os.environ.get("XDG_CACHE_HOME") or home / ".cache")
    wanted = []
    if "KERAS_HOME" not in os.environ and not os.path.lexists(home / ".keras"):
        wanted.append(("KERAS_HOME", "keras"))
    if "MPLCONFIGDIR" not in os.environ and not any(
            os.path.lexists(folder / "matplotlib") for folder in (config, cache)):
        wanted.append(("MPLCONFIGDIR", "matplotlib"))
    if not wanted:
        return
    try:
        private = tempfile.mkdtemp(prefix="masktrainer-")
    except OSError:  # no usable temporary folder: the libraries' own behaviour
        return
    atexit.register(shutil.rmtree, private, True)
    for variable, name in wanted:
        os.environ[variable] = os.path.join(private, name)

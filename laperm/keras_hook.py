"""Run a callback once Keras is loaded, without importing Keras (or TensorFlow) now.

Keras finds a saved model's custom classes only in its registry, which the classes
join when their modules are imported. ``laperm`` and ``masktrainer`` load their
TensorFlow modules lazily (so a command line answers ``--help`` before TensorFlow
starts), so they register through :func:`when_keras_loads`: at once if Keras is
already imported, otherwise as soon as ``import keras`` has finished and no module of
the waiting packages is half-imported (``from masktrainer.nn.initializers import X``
imports Keras from inside that module; registering there would re-enter it).
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

_pending: list[tuple[Callable[[], None], tuple[str, ...]]] = []
_importing: list[str] = []  # modules whose (wrapped) execution is under way
_lock = threading.RLock()


def _top(name: str) -> str:
    return name.partition(".")[0]


def _keras_ready() -> bool:
    """Keras has been imported and its (wrapped) execution has finished."""
    return "keras" in sys.modules and "keras" not in _importing


def _run_ready_callbacks() -> None:
    """Run the callbacks whose packages have no module half-imported, once Keras is loaded."""
    if not _keras_ready():
        return
    with _lock:
        busy = {_top(name) for name in _importing}
        ready = [entry for entry in _pending if not busy & set(entry[1])]
        for entry in ready:
            _pending.remove(entry)
        if not _pending and _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
    for callback, _ in ready:
        callback()


class _ImportFinder:
    """A ``sys.meta_path`` finder that finds nothing itself: for ``keras`` and the modules
    of the waiting packages it asks the finders after it and wraps that spec's loader, so
    that ready callbacks run when such a module has executed. (It stays until the last
    callback ran: TensorFlow looks ``keras`` up with ``find_spec`` before importing it.)"""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        with _lock:
            watched = {package for _, packages in _pending for package in packages}
        if fullname != "keras" and _top(fullname) not in watched:
            return None
        spec = None
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is not self and find is not None:
                spec = find(fullname, path, target)
                if spec is not None:
                    break
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        execute = spec.loader.exec_module

        def exec_module(module: Any) -> None:
            with _lock:
                _importing.append(fullname)
            try:
                execute(module)
            finally:
                with _lock:
                    _importing.remove(fullname)
            _run_ready_callbacks()

        spec.loader.exec_module = exec_module  # this spec's own loader instance
        return spec


_finder = _ImportFinder()


def keras_loaded() -> bool:
    """Whether Keras (or TensorFlow, whose use brings Keras) is imported already."""
    return "keras" in sys.modules or "tensorflow" in sys.modules


def when_keras_loads(callback: Callable[[], None], packages: tuple[str, ...]) -> None:
    """Call ``callback`` now if Keras is loaded, else once ``import keras`` has completed and
    no module of ``packages`` (top-level names, the ones ``callback`` imports) is
    half-imported."""
    if keras_loaded():
        callback()
        return
    with _lock:
        _pending.append((callback, tuple(packages)))
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)

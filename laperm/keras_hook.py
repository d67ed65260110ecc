"""Run a callback once Keras is loaded, without importing Keras (or TensorFlow) now.

Keras finds a saved model's custom classes only in its registry, which the classes
join when their modules are imported. ``laperm`` and ``masktrainer`` load their
TensorFlow modules lazily (so a command line answers ``--help`` before TensorFlow
starts), so they register through :func:`when_keras_loads`: at once if Keras is
already imported, otherwise right after ``import keras`` finishes, whichever
package the user imports first and in whatever order.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

_callbacks: list[Callable[[], None]] = []
_lock = threading.Lock()


def _run_callbacks() -> None:
    with _lock:
        pending = list(_callbacks)
        _callbacks.clear()
    for callback in pending:
        callback()


class _KerasImportFinder:
    """A ``sys.meta_path`` finder that finds nothing itself: it asks the finders after it for
    ``keras`` and wraps that spec's loader so that the pending callbacks run once the module
    has executed. (It stays in place until then: TensorFlow looks ``keras`` up with
    ``find_spec`` before it imports it.)"""

    def find_spec(self, fullname: str, path: Any = None, target: Any = None):
        if fullname != "keras":
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
            execute(module)
            if self in sys.meta_path:
                sys.meta_path.remove(self)
            _run_callbacks()

        spec.loader.exec_module = exec_module  # this spec's own loader instance
        return spec


_finder = _KerasImportFinder()


def keras_loaded() -> bool:
    """Whether Keras (or TensorFlow, whose use brings Keras) is imported already."""
    return "keras" in sys.modules or "tensorflow" in sys.modules


def when_keras_loads(callback: Callable[[], None]) -> None:
    """Call ``callback`` now if Keras is loaded, else once ``import keras`` completes."""
    if keras_loaded():
        callback()
        return
    with _lock:
        _callbacks.append(callback)
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)

"""tensorflow-datasets' progress bars are off when stderr is not a terminal (a log file)."""

import io
import sys
import types

from masktrainer.data.sources import import_tfds


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bars_off_in_a_log_and_kept_on_a_terminal(monkeypatch):
    calls = []
    fake = types.ModuleType("tensorflow_datasets")
    fake.disable_progress_bar = lambda: calls.append("off")
    monkeypatch.setitem(sys.modules, "tensorflow_datasets", fake)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # not a terminal
    assert import_tfds() is fake and calls == ["off"]
    monkeypatch.setattr(sys, "stderr", _Terminal())
    import_tfds()
    assert calls == ["off"]

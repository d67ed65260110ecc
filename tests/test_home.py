"""masktrainer.home: Keras and matplotlib write nothing into $HOME unless the user has their
folders or chose a place."""

import os
from pathlib import Path

import pytest

from masktrainer.home import keep_out_of_home

VARIABLES = ("KERAS_HOME", "MPLCONFIGDIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty home folder; the variables are restored after the test."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for variable in VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    return tmp_path


def test_an_empty_home_gets_a_private_temporary_folder_for_both(home):
    keep_out_of_home()
    keras_home, mpl = Path(os.environ["KERAS_HOME"]), Path(os.environ["MPLCONFIGDIR"])
    assert keras_home.name == "keras" and mpl.name == "matplotlib"
    assert keras_home.parent == mpl.parent and keras_home.parent.name.startswith("masktrainer-")
    assert home not in keras_home.parents
    assert list(home.iterdir()) == []


def test_the_users_own_folders_and_choices_are_kept(home, monkeypatch):
    (home / ".keras").mkdir()
    (home / ".cache" / "matplotlib").mkdir(parents=True)
    keep_out_of_home()
    assert "KERAS_HOME" not in os.environ and "MPLCONFIGDIR" not in os.environ
    (home / ".keras").rmdir()
    monkeypatch.setenv("KERAS_HOME", "/chosen/keras")
    keep_out_of_home()
    assert os.environ["KERAS_HOME"] == "/chosen/keras" and "MPLCONFIGDIR" not in os.environ

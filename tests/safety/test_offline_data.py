"""Issue 13, class 8: tensorflow-datasets never downloads when --manual_dir is given, and fails
fast, with the recipe for providing the files, when it would have to download offline."""

import gzip
import socket

import pytest
from safety_support import one_line

from masktrainer.cli import main
from masktrainer.data import sources
from masktrainer.errors import DataError


@pytest.fixture()
def no_network(monkeypatch):
    """Any connection attempt fails the test: nothing may try to download."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"a download was attempted: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)


@pytest.fixture()
def wrong_files(tmp_path):
    folder = tmp_path / "manual"
    folder.mkdir()
    (folder / "mnist.npz").write_bytes(b"some other download")
    (folder / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not the images"))
    return folder


def test_a_manual_dir_without_the_files_never_downloads(wrong_files, tmp_path, no_network):
    (wrong_files / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError) as caught:
        sources.load_raw("mnist", "tfds", manual_dir=str(wrong_files),
                         tfds_data_dir=str(tmp_path / "tfds"))
    message = str(caught.value)
    assert "lacks train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
    assert "provide it offline with --data_dir=DIR" in message
    assert not (tmp_path / "tfds").exists()


def test_a_manual_dir_with_a_wrong_file_is_named(wrong_files, tmp_path, no_network):
    for name in sources.IDX_FILES.values():
        if not (wrong_files / name).exists():
            (wrong_files / name).write_bytes(b"x")
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz is corrupt or not the orig"):
        sources.load_raw("mnist", "tfds", manual_dir=str(wrong_files),
                         tfds_data_dir=str(tmp_path / "tfds"))


def test_the_command_line_refuses_a_wrong_manual_dir_before_writing(wrong_files, tmp_path,
                                                                    capsys, no_network):
    code = main(["prog", "--manual_dir", str(wrong_files), f"--tfds_data_dir={tmp_path / 'tfds'}",
                 f"--outputpath={tmp_path / 'out'}"])
    assert code == 2
    assert "lacks train-labels-idx1-ubyte.gz" in one_line(capsys.readouterr().err)
    assert not (tmp_path / "out").exists() and not (tmp_path / "tfds").exists()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_download_that_cannot_reach_its_server_fails_fast_with_the_recipe(tmp_path,
                                                                          monkeypatch, capsys):
    # The server, as seen from a machine without network: nothing answers.
    monkeypatch.setitem(sources.TFDS_DOWNLOAD_HOSTS, "mnist", ("127.0.0.1", _closed_port()))
    code = main(["prog", "--data_source=tfds", f"--tfds_data_dir={tmp_path / 'tfds'}",
                 f"--outputpath={tmp_path / 'out'}"])
    assert code == 2
    line = one_line(capsys.readouterr().err)
    assert "would download mnist from 127.0.0.1, which cannot be reached (offline?)" in line
    assert "provide it offline with --data_dir=DIR" in line
    assert not (tmp_path / "out").exists()

"""Issue 21, class 7: an ``.npz`` whose member declares far more than it holds (terabytes in a
few bytes) is refused from its header, one line, before anything is allocated: a run's arrays
(``load_arrays``), a compact export (``load_compact``) and ``export`` reading a run's
``preprocessing.npz``."""

import io
import shutil
import zipfile

import numpy as np
import pytest
from safety_support import export_cli, one_line, snapshot

from masktrainer.errors import RunStateError
from masktrainer.export.compact import CompactError, read_compact
from masktrainer.run.rundir import PREPROCESSING_NAME, load_arrays


def _header(shape, descr="<f8") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _bomb(path, compression=zipfile.ZIP_STORED, shape=(2**40,), extra=b""):
    """An archive with a good member and one declaring ``shape`` (8 TiB) that holds no data."""
    with zipfile.ZipFile(path, "w", compression) as archive:
        good = io.BytesIO()
        np.save(good, np.arange(3.0))
        archive.writestr("mean.npy", good.getvalue())
        archive.writestr("std.npy", _header(shape) + extra)
    return path


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_a_member_declaring_terabytes_is_refused_from_its_header(tmp_path, compression):
    path = _bomb(tmp_path / "bomb.npz", compression)
    with pytest.raises(RunStateError) as caught:
        load_arrays(path)
    message = str(caught.value)
    assert "member std.npy declares 8,796,093,022,336 bytes" in message
    assert "\n" not in message and "refusing to load it" in message


def test_a_deflated_member_is_held_to_deflates_ratio(tmp_path):
    # honest zeros compress ~1000:1 and load; a header is checked against what is stored
    honest = tmp_path / "zeros.npz"
    np.savez_compressed(honest, a=np.zeros(2**20))
    assert load_arrays(honest)["a"].shape == (2**20,)
    short = _bomb(tmp_path / "short.npz", zipfile.ZIP_DEFLATED, shape=(100,), extra=b"\0" * 8)
    with pytest.raises(RunStateError, match="declares 928 bytes; the archive holds 136"):
        load_arrays(short)


def test_object_members_and_plain_arrays(tmp_path):
    with zipfile.ZipFile(tmp_path / "obj.npz", "w") as archive:
        archive.writestr("x.npy", _header((1,), "|O") + b"\0" * 8)
    with pytest.raises(RunStateError, match="holds Python objects"):
        load_arrays(tmp_path / "obj.npz")
    np.savez(tmp_path / "ok.npz", a=np.arange(6).reshape(2, 3), b=np.ones(0))
    loaded = load_arrays(tmp_path / "ok.npz")
    assert loaded["a"].tolist() == [[0, 1, 2], [3, 4, 5]] and loaded["b"].shape == (0,)


def test_a_compact_file_declaring_terabytes_is_a_compact_error(tmp_path):
    with pytest.raises(CompactError, match="declares 8,796,093,022,336 bytes"):
        read_compact(_bomb(tmp_path / "compact.npz", zipfile.ZIP_DEFLATED))


def test_export_refuses_a_preprocessing_bomb_in_one_line(reference_run, tmp_path, capsys):
    run = tmp_path / "run"
    shutil.copytree(reference_run, run)
    if not (run / PREPROCESSING_NAME).is_file():
        pytest.skip("the reference run keeps no preprocessing.npz")
    _bomb(run / PREPROCESSING_NAME)
    before = snapshot(tmp_path)
    code, err = export_cli(capsys, run, "--formats", "plain")
    assert code == 2
    assert "declares 8,796,093,022,336 bytes" in one_line(err)
    assert snapshot(tmp_path) == before


def test_a_member_without_the_npy_suffix_is_checked_too(tmp_path):
    with zipfile.ZipFile(tmp_path / "bare.npz", "w") as archive:
        archive.writestr("std", _header((2**40,)))
    with pytest.raises(RunStateError, match="member std declares"):
        load_arrays(tmp_path / "bare.npz")

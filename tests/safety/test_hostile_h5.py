"""Hostile Keras 2 ``.h5`` files given to ``evaluate --weights`` (issue 21, classes 5, 7, 8):
links and storage that read other files' bytes as weights, soft-link cycles, arrays that
declare terabytes, NaN and infinity. Each is one line, exit 2, before TensorFlow is imported,
and reads or changes nothing else."""

import sys

import h5py
import numpy as np
import pytest

from masktrainer.cli import main

F1 = ["--traintype", "LaPerm", "--nettype", "F1", "--weights"]
KERNEL = "dense_10/kernel:0"  # as the released F1.h5 names it (a group, then the dataset)


def _f1(path, kernel=None, bias=None, extra=None):
    """A weights-only F1 file; ``extra(handle, layer_group)`` plants the hostile part."""
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = np.array([b"flatten_8", b"dense_10"])
        handle.attrs["keras_version"] = b"2.3.0-tf"
        handle.create_group("flatten_8").attrs["weight_names"] = np.array([], dtype="S")
        layer = handle.create_group("dense_10")
        layer.attrs["weight_names"] = np.array([KERNEL.encode(), b"dense_10/bias:0"])
        if kernel is not None:
            layer.create_dataset(KERNEL, data=kernel)
        layer.create_dataset("dense_10/bias:0",
                             data=np.zeros(10, np.float32) if bias is None else bias)
        if extra is not None:
            extra(handle, layer)
    return path


def _victim(tmp_path):
    victim = tmp_path / "victim.h5"
    with h5py.File(victim, "w") as handle:
        handle.create_dataset("kernel", data=np.full((784, 10), 0.08, np.float32))
    raw = tmp_path / "victim.raw"
    raw.write_bytes(np.full((784, 10), 0.08, np.float32).tobytes())
    return victim, raw


def _external_link(victim):
    def plant(handle, layer):
        layer[KERNEL] = h5py.ExternalLink(str(victim), "/kernel")
    return plant


def _soft_link(handle, layer):
    handle.create_dataset("elsewhere", data=np.full((784, 10), 0.08, np.float32))
    layer[KERNEL] = h5py.SoftLink("/elsewhere")


def _external_storage(raw):
    def plant(handle, layer):
        layer.create_dataset(KERNEL, shape=(784, 10), dtype="f4",
                             external=[(str(raw), 0, h5py.h5f.UNLIMITED)])
    return plant


def _virtual(victim):
    def plant(handle, layer):
        source = h5py.VirtualSource(str(victim), "kernel", shape=(784, 10))
        view = h5py.VirtualLayout(shape=(784, 10), dtype="f4")
        view[:] = source
        layer.create_virtual_dataset(KERNEL, view)
    return plant


def _huge(handle, layer):  # an unwritten dataset: a tiny file that would read as 4 TiB
    layer.create_dataset(KERNEL, shape=(2**20, 2**20), dtype="f4", chunks=(1024, 1024))


def _cycle(path):
    with h5py.File(path, "w") as handle:
        handle.attrs["layer_names"] = np.array([b"loop"])
        handle["loop"] = h5py.SoftLink("/loop")
    return path


@pytest.fixture
def assert_refused(tmp_path, capsys):
    def check(path, message):
        before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
        code = main(["prog", "evaluate", *F1, str(path)])
        captured = capsys.readouterr()
        assert code == 2 and captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("masktrainer: error: "), captured.err
        assert message in lines[0] and "Traceback" not in captured.err
        assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before
    return check


def test_links_and_foreign_storage_are_refused(tmp_path, assert_refused):
    victim, raw = _victim(tmp_path)
    assert_refused(_f1(tmp_path / "ext.h5", extra=_external_link(victim)), "is an external link")
    assert_refused(_f1(tmp_path / "soft.h5", extra=_soft_link), "is a soft link")
    assert_refused(_f1(tmp_path / "raw.h5", extra=_external_storage(raw)), "external files")
    assert_refused(_f1(tmp_path / "vds.h5", extra=_virtual(victim)), "virtual dataset")
    assert_refused(_cycle(tmp_path / "cycle.h5"), "is a soft link")


def test_huge_declared_shapes_are_refused_before_reading(tmp_path, assert_refused):
    path = _f1(tmp_path / "huge.h5", extra=_huge)
    assert path.stat().st_size < 1_000_000
    assert_refused(path, "declares shape (1048576, 1048576)")


def test_many_large_arrays_are_refused_by_their_total(tmp_path, assert_refused, monkeypatch):
    from masktrainer.evaluate import h5

    monkeypatch.setattr(h5, "MAX_FILE_VALUES", 7840)  # the F1 kernel alone fits, not the bias
    assert_refused(_f1(tmp_path / "sum.h5", kernel=np.zeros((784, 10), np.float32)), "in all")


def _many_names(handle, layer):  # dense attribute storage holds any count
    handle.attrs["layer_names"] = np.array([b"n%d" % i for i in range(20_000)])


def _long_name(handle, layer):
    layer.attrs["weight_names"] = np.array([b"w" * 5_000])


def test_huge_name_attributes_are_refused_before_reading(tmp_path, assert_refused, monkeypatch):
    from masktrainer.evaluate import h5

    with h5py.File(tmp_path / "many.h5", "w", libver="latest") as handle:
        _many_names(handle, None)
    assert_refused(tmp_path / "many.h5", "declares 20,000 names")
    # The count is checked on the declaration, before the names are read.
    monkeypatch.setattr(h5.np, "atleast_1d", lambda *a: pytest.fail("names were read"))
    assert_refused(tmp_path / "many.h5", "declares 20,000 names")
    monkeypatch.undo()
    assert_refused(_f1(tmp_path / "long.h5", kernel=np.zeros((784, 10), np.float32),
                       extra=_long_name), "a name of 5,000 characters")


@pytest.mark.parametrize("where", ["kernel", "bias"])
@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_non_finite_weights_are_not_scored(tmp_path, assert_refused, where, value):
    kernel = np.full((784, 10), 0.08, np.float32)
    bias = np.zeros(10, np.float32)
    (kernel if where == "kernel" else bias)[3] = value
    path = _f1(tmp_path / "nan.h5", kernel=kernel, bias=bias)
    assert_refused(path, "NaN or infinite value(s); refusing to score")


def test_refused_before_tensorflow_is_imported(tmp_path):
    import subprocess

    victim, _ = _victim(tmp_path)
    path = _f1(tmp_path / "ext.h5", extra=_external_link(victim))
    code = ("import sys; from masktrainer.cli import main; rc = main(['p', 'evaluate', "
            f"*{F1!r}, {str(path)!r}]); assert 'tensorflow' not in sys.modules; sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "external link" in done.stderr, done.stderr


def test_an_outsized_keras_version_is_not_echoed(tmp_path):
    from masktrainer.evaluate.h5 import read_weight_file

    def plant(handle, layer):
        handle.attrs["keras_version"] = b"2.3\n" + b"x" * 10_000

    path = _f1(tmp_path / "version.h5", kernel=np.zeros((784, 10), np.float32), extra=plant)
    loaded = read_weight_file(path)
    assert loaded.keras_version == "unrecognised" and len(loaded.describe()) < 200

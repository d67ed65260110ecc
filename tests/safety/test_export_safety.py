"""Issue 13, class 6: export never replaces an earlier export silently, and a compact file
that does not describe the run faithfully is a one-line CompactError, never another model."""

import errno
import json
import os
import shutil
import warnings

import numpy as np
import pytest
from safety_support import export_cli, one_line, snapshot

from masktrainer.cli import main
from masktrainer.export.compact import (
    CHECKSUM_KEY,
    CompactError,
    load_compact,
    payload_digest,
)


@pytest.fixture(scope="module")
def exported(reference_run, tmp_path_factory):
    """A copy of the finished reference run with its export (RUN/export)."""
    run = tmp_path_factory.mktemp("exported") / "run-exported"
    shutil.copytree(reference_run, run)
    assert main(["masktrainer", "export", str(run)]) == 0
    return run


@pytest.fixture()
def run(exported, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(exported, target)
    return target


def test_a_second_export_into_the_same_folder_is_refused(run, capsys):
    before = snapshot(run)
    code, err = export_cli(capsys, run)
    assert code == 2
    assert one_line(err) == (f"masktrainer: error: --out {run / 'export'} already holds "
                             "plain.keras, compact.npz; pass --overwrite to replace it")
    assert snapshot(run) == before


def test_only_the_formats_asked_for_count(run, capsys):
    (run / "export" / "compact.npz").unlink()
    code, err = export_cli(capsys, run, "--formats", "plain")
    assert code == 2 and "already holds plain.keras;" in one_line(err)
    code, _ = export_cli(capsys, run, "--formats", "compact")
    assert code == 0 and (run / "export" / "compact.npz").is_file()


def test_overwrite_replaces_the_export(run, capsys):
    old = (run / "export" / "compact.npz").stat().st_mtime_ns
    code, _ = export_cli(capsys, run, "--overwrite")
    assert code == 0 and (run / "export" / "compact.npz").stat().st_mtime_ns != old
    assert load_compact(run).weights


def test_a_refused_write_keeps_the_earlier_export(run, capsys, monkeypatch):
    before = snapshot(run)
    real_fsync = os.fsync

    def full_disk(fd):
        if os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).startswith(".compact.npz."):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    code, err = export_cli(capsys, run, "--formats", "compact", "--overwrite")
    assert code == 1
    assert one_line(err) == (f"masktrainer: error: cannot write {run / 'export' / 'compact.npz'}: "
                             "No space left on device")
    assert snapshot(run) == before  # the earlier file, and no temporary one


@pytest.mark.parametrize("setup,message", [
    (lambda run: (run / "config.json").write_text("{broken"), "is not valid JSON"),
    (lambda run: (run / "config.json").write_text(json.dumps({**json.loads(
        (run / "config.json").read_text()), "maxepochs": True})), "--maxepochs must be"),
    (lambda run: (run / "config.json").write_text(json.dumps({**json.loads(
        (run / "config.json").read_text()), "resolved_seed": "7"})), "no valid resolved_seed"),
], ids=["config-garbage", "config-bad-value", "seed-string"])
def test_a_broken_run_directory_is_one_line(run, tmp_path, capsys, setup, message):
    setup(run)
    code, err = export_cli(capsys, run, "--out", tmp_path / "out")
    assert code == 2 and message in one_line(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("name", ["preprocessing.npz", "model.keras", "config.json",
                                  "metrics.json"])
def test_a_folder_where_a_run_file_must_be_is_one_line(run, tmp_path, capsys, name):
    """A folder in a run file's place is damage, never an absent file (the preprocessing
    used to be skipped: the export went on without the run's normalisation)."""
    (run / name).unlink()
    (run / name).mkdir()
    code, err = export_cli(capsys, run, "--out", tmp_path / "out")
    assert code == 2, err
    assert one_line(err).endswith(f"{run / name} is not a regular file (a device, FIFO or "
                                  "folder)"), err
    assert not (tmp_path / "out").exists()
    if name != "preprocessing.npz":  # evaluate reads the others, before any data
        assert main(["masktrainer", "evaluate", "--run", str(run)]) == 2
        assert one_line(capsys.readouterr().err).endswith("is not a regular file (a device, "
                                                          "FIFO or folder)")


def test_a_folder_where_an_export_file_goes_is_refused_before_any_work(run, tmp_path, capsys,
                                                                       monkeypatch):
    (tmp_path / "out" / "compact.npz").mkdir(parents=True)
    before = snapshot(tmp_path)
    monkeypatch.setattr("masktrainer.export.cli.import_tensorflow", lambda: pytest.fail("work"))
    code, err = export_cli(capsys, run, "--out", tmp_path / "out", "--overwrite")
    assert code == 2
    assert one_line(err).endswith(f"{tmp_path / 'out' / 'compact.npz'} is not a regular file "
                                  "(a folder or a device); remove it or choose another --out")
    assert snapshot(tmp_path) == before


def test_an_out_path_that_is_a_file_is_refused(run, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    code, err = export_cli(capsys, run, "--out", tmp_path / "file")
    assert code == 2 and "is a file, not a folder" in one_line(err)


def test_an_empty_out_is_refused_not_the_current_folder(run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = export_cli(capsys, run, "--out", "")
    assert code == 2 and one_line(err) == "masktrainer: error: --out must not be empty"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


# -- the compact file ---------------------------------------------------------------------
def _arrays(run):
    with np.load(run / "export" / "compact.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def _rewrite(run, change, checksum=True):
    arrays = _arrays(run)
    change(arrays)
    if checksum and CHECKSUM_KEY in arrays:
        arrays[CHECKSUM_KEY] = payload_digest(arrays)
    path = run / "export" / "compact.npz"
    path.unlink()
    np.savez_compressed(path, **arrays)


def _bits_key(arrays):
    return next(key for key in arrays if key.endswith(".keep"))


def _layer(arrays):
    return _bits_key(arrays).split(".")[0]


def _config_bytes(arrays):
    return json.loads(arrays["config_json"].tobytes())


CHANGES = {
    "bits-too-short": (lambda a: a.update({_bits_key(a): a[_bits_key(a)][:-1]}), True,
                       "compact arrays do not fit (packed bits hold"),
    "bits-too-short-checksum-kept": (lambda a: a.update({_bits_key(a): a[_bits_key(a)][:-1]}),
                                     False, "does not match its checksum"),
    "one-bit-flipped": (lambda a: a[_bits_key(a)].__setitem__(0, a[_bits_key(a)][0] ^ 1), False,
                        "does not match its checksum"),
    "config-missing": (lambda a: a.pop("config_json"), True, "lacks config_json"),
    "config-not-utf8": (lambda a: a.update(config_json=np.frombuffer(b"\xff\xfe{", np.uint8)),
                        True, "unreadable header (UnicodeDecodeError"),
    "config-invalid": (lambda a: a.update(config_json=np.frombuffer(json.dumps(
        {**_config_bytes(a), "maxepochs": True}).encode(), np.uint8)), True,
        "the embedded config does not build a model (ConfigError: --maxepochs"),
    "base-of-wrong-shape": (lambda a: a.update({_layer(a) + ".base": np.zeros(3, np.float32)}),
                            True, ".base is float32 (3,), the model needs float32"),
    "array-of-no-layer": (lambda a: a.update({"L99.keep": a[_bits_key(a)]}), True,
                          "arrays L99.keep belong to no layer of the model"),
    "version-3": (lambda a: a.update(format_version=np.int32(3)), True,
                  "unsupported compact format version 3"),
    "version-2-without-checksum": (lambda a: a.pop(CHECKSUM_KEY), False,
                                   "has no payload_sha256"),
}


@pytest.mark.parametrize("change,checksum,message", list(CHANGES.values()), ids=list(CHANGES))
def test_an_unfaithful_compact_file_is_a_one_line_compact_error(run, change, checksum, message):
    _rewrite(run, change, checksum)
    with pytest.raises(CompactError) as caught:
        load_compact(run)
    assert message in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("kind", ["garbage", "fifo"])
def test_a_compact_file_that_is_not_an_archive_is_refused(run, kind):
    path = run / "export" / "compact.npz"
    path.unlink()
    path.write_bytes(b"not a zip archive" * 10) if kind == "garbage" else os.mkfifo(path)
    with pytest.raises(CompactError, match="is not a readable compact file"):
        load_compact(run)


def test_a_version_1_file_loads_with_a_warning_that_it_is_unverified(run):
    want = [np.asarray(w) for w in load_compact(run).weights]

    def as_version_1(arrays):
        arrays.pop(CHECKSUM_KEY)
        arrays["format_version"] = np.int32(1)

    _rewrite(run, as_version_1, checksum=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = [np.asarray(w) for w in load_compact(run).weights]
    assert any("version 1, which has no payload checksum" in str(w.message) for w in caught)
    for a, b in zip(got, want):
        np.testing.assert_array_equal(a, b)

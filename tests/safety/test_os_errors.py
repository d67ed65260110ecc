"""Issue 13, classes 4 and 5: a full disk and other operating-system errors, and the
divergence message.

A refused write is one line naming the file and exit status 1; the file keeps its last good
content, no temporary file is left, and the run resumes bit for bit. A run path that cannot
be created (over-long names, a file where a folder must go) and a data folder without
permission are one line and exit status 2 before anything is written. A diverged run names
a checkpoint that exists, or says that none was written.
"""

import errno
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

import pytest
from safety_support import (
    PACKAGE_ROOT,
    RUN_ARGS,
    assert_same_run,
    cli,
    interrupt_after,
    metrics_of,
    one_line,
    run_dir_of,
)

from masktrainer.cli import main


def _full_disk_for(monkeypatch, name: str, after: int = 0) -> None:
    """fsync of the temporary file of ``name`` fails with ENOSPC, from its (after+1)-th write
    on (where a full disk reports itself when the page cache still took the bytes)."""
    real_fsync, seen = os.fsync, []

    def fsync(fd):
        path = os.readlink(f"/proc/self/fd/{fd}")
        if os.path.basename(path).startswith(f".{name}."):
            seen.append(path)
            if len(seen) > after:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)


def _no_temporary_files(run):
    return not [p for p in run.rglob(".*.tmp*")]


@pytest.mark.parametrize("name,after", [("metrics.json", 2), ("metrics.csv", 1),
                                        ("masks.npz", 0), ("model.keras", 0)])
def test_a_full_disk_keeps_the_last_good_state_and_the_run_resumes_exactly(
        tmp_path, capsys, monkeypatch, reference_run, name, after):
    with monkeypatch.context() as patch:
        _full_disk_for(patch, name, after)
        assert main(["prog", *RUN_ARGS, f"--outputpath={tmp_path}"]) == 1
    run = run_dir_of(tmp_path)
    line = one_line(capsys.readouterr().err)
    assert line == f"masktrainer: error: cannot write {run / name}: No space left on device"
    assert _no_temporary_files(run)
    metrics = metrics_of(run)
    assert metrics["status"] == "running"
    if name == "metrics.json":  # the file still holds epoch 1, as written before
        assert metrics["epochs_completed"] == 1 and len(metrics["testAccuracy"]) == 2
    if name in ("masks.npz", "model.keras"):
        assert not (run / name).exists()
    assert main(["prog", "--resume", str(run)]) == 0
    assert_same_run(reference_run, run)


def test_a_real_write_limit_on_the_checkpoint_is_one_line_and_resumable(tmp_path, reference_run):
    # RLIMIT_FSIZE makes the kernel refuse (EFBIG) every write beyond 2 MB: the 1 MB initial
    # weights pass, TensorFlow's 4 MB checkpoint at step 5 does not.
    limit = 2 * 2**20

    def limited():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    process = cli([*RUN_ARGS, f"--outputpath={tmp_path}"], preexec_fn=limited)
    _, err = process.communicate(timeout=600)
    assert process.returncode == 1, err[-2000:]
    run = run_dir_of(tmp_path)
    line = one_line(err)
    assert line.startswith(f"masktrainer: error: cannot write checkpoint {run / 'checkpoint'}/")
    state = json.loads((run / "checkpoint" / "resume.json").read_text())
    assert state == {"epoch": 0, "checkpoint": None}  # the last good point, still resumable
    assert main(["prog", "--resume", str(run)]) == 0
    assert_same_run(reference_run, run)


@pytest.mark.parametrize("layout,message", [
    ("component-too-long", "is longer than 255 bytes"),
    ("path-too-long", "the path is too long"),
    ("file-as-outputpath", "is a file, not a folder"),
    ("file-inside-the-run-path", "is a file, not a folder"),
])
def test_run_paths_that_cannot_be_created_are_refused_before_anything(tmp_path, capsys,
                                                                       layout, message):
    if layout == "component-too-long":
        out = tmp_path / ("x" * 300)
    elif layout == "path-too-long":
        out = tmp_path.joinpath(*["y" * 200] * 21)
    elif layout == "file-as-outputpath":
        out = tmp_path / "file.txt"
        out.write_text("a file")
    else:
        out = tmp_path / "out"
        out.mkdir()
        (out / "FreePruning").write_text("where the run's folder must go")
    before = sorted(tmp_path.rglob("*"))
    assert main(["prog", *RUN_ARGS, f"--outputpath={out}"]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"masktrainer: error: --outputpath {out} cannot be created") \
        and message in line
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("args, flag", [
    (["export", "{long}"], "run directory"),
    (["export", "{run}", "--out", "{long}"], "--out"),
    (["evaluate", "--run", "{long}"], "run directory"),
    (["evaluate", "--traintype", "LaPerm", "--nettype", "F1", "--weights", "{long}.h5"],
     "--weights"),
    (["--config", "{long}", "--print_config"], "--config"),
    (["--resume", "{long}"], "--resume"),
], ids=["export", "export-out", "evaluate-run", "evaluate-weights", "config", "resume"])
def test_a_given_name_over_255_bytes_is_one_line(args, flag, tmp_path, capsys, reference_run):
    """Not a traceback from the first exists()/is_dir() on the name."""
    long = str(tmp_path / ("a" * 300))
    before = sorted(tmp_path.rglob("*"))
    capsys.readouterr()
    argv = [a.format(long=long, run=reference_run) for a in args]
    assert main(["prog", *argv]) == 2
    line = one_line(capsys.readouterr().err)
    assert line.startswith(f"masktrainer: error: {flag} /") and \
        line.endswith("File name too long"), line
    assert sorted(tmp_path.rglob("*")) == before


def test_a_data_folder_without_permission_is_refused(tmp_path):
    root = tempfile.mkdtemp(prefix="masktrainer-perm-")  # reachable by an unprivileged user
    try:
        os.chmod(root, 0o755)
        data, out = os.path.join(root, "data"), os.path.join(root, "out")
        os.mkdir(data, 0o000)
        os.mkdir(out)
        os.chmod(out, 0o777)  # writable by anyone (mkdir's mode is masked by the umask)
        # Root reads anything: such a process gives up root (as user nobody) once the command
        # line is loaded (the interpreter itself may live where nobody can read).
        code = ("import os, sys; from masktrainer.cli import main\n"
                "if os.geteuid() == 0: os.setuid(65534)\n"
                f"sys.exit(main(['prog', '--data_dir', {data!r}, '--outputpath={out}']))")
        process = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE,
                                   text=True, env={**os.environ, "PYTHONPATH": PACKAGE_ROOT})
        _, err = process.communicate(timeout=300)
        assert process.returncode == 2, err[-2000:]
        assert f"--data_dir {data} is not readable (no permission)" in one_line(err)
        assert os.listdir(out) == []
    finally:
        os.chmod(os.path.join(root, "data"), 0o755)
        shutil.rmtree(root)


def test_divergence_in_the_first_epoch_says_no_checkpoint_exists(tmp_path, capsys):
    args = ["--traintype=Baseline", "--lr=1e12", "--maxepochs=2", "--batchsize=500",
            "--validation_size=59000", "--eval_batchsize=2000", "--notensorboard",
            "--progress=none", f"--outputpath={tmp_path}"]
    assert main(["prog", *args]) == 3
    line = one_line(capsys.readouterr().err)
    assert "at epoch 1, step" in line and "No checkpoint had been written before it" in line
    assert metrics_of(run_dir_of(tmp_path))["status"] == "diverged"


def test_divergence_after_a_resume_names_the_checkpoint_that_exists(tmp_path, capsys,
                                                                   monkeypatch):
    args = ["--traintype=Baseline", *RUN_ARGS, f"--outputpath={tmp_path}"]
    with monkeypatch.context() as patch:
        interrupt_after(patch, "epoch   1/")
        assert main(["prog", *args]) == 130
    run = run_dir_of(tmp_path)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "lr": 1e12}))  # a valid value
    capsys.readouterr()
    assert main(["prog", "--resume", str(run)]) == 3
    line = one_line(capsys.readouterr().err)
    named = re.search(r"at epoch 2, step \d+; .* is (ckpt-\d+) in (\S+), (after epoch 1|in "
                      r"epoch 2 after step 5)$", line)
    assert named and named[2] == str(run / "checkpoint"), line
    assert (run / "checkpoint" / f"{named[1]}.index").is_file()

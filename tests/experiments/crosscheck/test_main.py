"""python -m experiments.crosscheck: one-line CLI errors, and --full needs a GPU."""

import pytest

from experiments.crosscheck.__main__ import main


@pytest.mark.parametrize("args,message", [
    (["--targets", "C99"], "unknown C99"),
    (["--targets", "G1"], "GPU target, add --full"),
    (["--seeds", "0"], "--seeds"),
    (["--seeds", "x"], "--seeds"),
    (["--stop_after", "0"], "--stop_after"),
    (["--data_dir", "/nonexistent"], "not a directory"),
])
def test_cli_errors_are_one_line(args, message, tmp_path, capsys):
    code = main([*args, "--outputpath", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err
    assert not (tmp_path / "o").exists()


def test_full_refuses_without_a_gpu(tmp_path, capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("a GPU is visible")
    assert main(["--full", "--outputpath", str(tmp_path / "o")]) == 2
    assert "needs a GPU" in capsys.readouterr().err


def _fake_run(calls, plant=None):
    """A cross-check without training: records the call, optionally plants something, then
    writes an empty report as the driver does."""
    from experiments.crosscheck import driver

    def run(opts):
        calls.append(opts)
        if plant:
            plant(opts.outputpath)
        driver.write(opts.outputpath, [], {}, opts.quick)
        return []

    return run


@pytest.mark.parametrize("name,make", [
    ("crosscheck.md", lambda p: p.symlink_to(p.parent / "elsewhere")),
    ("crosscheck.csv", lambda p: p.symlink_to(p.parent / "elsewhere")),
    ("runs.json", lambda p: p.mkdir()),
])
def test_unwritable_report_names_are_refused_before_any_work(name, make, tmp_path, capsys,
                                                             monkeypatch):
    from experiments.crosscheck import driver

    out = tmp_path / "o"
    out.mkdir()
    make(out / name)
    calls = []
    monkeypatch.setattr(driver, "run_crosscheck", _fake_run(calls))
    assert main(["--targets", "C1", "--outputpath", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and name in err, err
    assert calls == [] and not (tmp_path / "elsewhere").exists()


def test_readme_given_as_a_link_is_refused(tmp_path, capsys):
    from experiments.crosscheck.readme import BEGIN, END

    real = tmp_path / "real.md"
    real.write_text(f"{BEGIN}\n{END}\n")
    (tmp_path / "link.md").symlink_to(real)
    code = main(["--readme", str(tmp_path / "link.md"), "--outputpath", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "link" in err, err


def test_a_link_planted_during_the_work_is_one_line_and_keeps_the_old_report(
        tmp_path, capsys, monkeypatch):
    from experiments.crosscheck import driver

    out = tmp_path / "o"
    out.mkdir()
    (out / "crosscheck.md").write_text("old md\n")
    (out / "crosscheck.csv").write_text("old csv\n")
    victim = tmp_path / "victim"
    victim.write_text("keep\n")

    def plant(folder):
        (folder / "crosscheck.csv").unlink()
        (folder / "crosscheck.csv").symlink_to(victim)

    calls = []
    monkeypatch.setattr(driver, "run_crosscheck", _fake_run(calls, plant))
    assert main(["--targets", "C1", "--outputpath", str(out)]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "link" in err, err
    assert calls and victim.read_text() == "keep\n"
    assert (out / "crosscheck.md").read_text() == "old md\n"  # not half-updated
    assert sorted(p.name for p in out.iterdir()) == ["crosscheck.csv", "crosscheck.md"]


def test_a_refused_write_is_one_line_exit_1(tmp_path, capsys, monkeypatch):
    from experiments.crosscheck import driver
    from masktrainer.errors import RunWriteError

    def full_disk(opts):
        raise RunWriteError(f"cannot write {opts.outputpath}/crosscheck.md: No space left")

    monkeypatch.setattr(driver, "run_crosscheck", full_disk)
    assert main(["--targets", "C1", "--outputpath", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "No space left" in err, err


def test_a_second_crosscheck_on_the_same_folder_is_refused(tmp_path, capsys, monkeypatch):
    from experiments.crosscheck import driver
    from masktrainer.run.lock import RunLock

    out = tmp_path / "o"
    out.mkdir()
    held = RunLock()  # as the first cross-check holds it (flock: per open file description)
    held.acquire(out)
    calls = []
    monkeypatch.setattr(driver, "run_crosscheck", _fake_run(calls))
    try:
        code = main(["--targets", "C1", "--outputpath", str(out)])
    finally:
        held.release()
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "another cross-check is using" in err and calls == []
    assert main(["--targets", "C1", "--outputpath", str(out)]) == 0 and calls

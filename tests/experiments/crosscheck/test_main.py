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

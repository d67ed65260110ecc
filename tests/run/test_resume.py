"""masktrainer.run.resume: resuming a run; what is refused, in one line.

A run killed with SIGKILL and resumed is compared with an uninterrupted one in test_scale.py."""

from masktrainer.cli import main


def test_resume_errors(tmp_path, capsys):
    assert main(["prog", "--resume", str(tmp_path)]) == 2
    assert "not a readable run directory" in capsys.readouterr().err
    assert main(["prog", "--resume", str(tmp_path), "--lr=0.1"]) == 2
    assert "drop --lr" in capsys.readouterr().err

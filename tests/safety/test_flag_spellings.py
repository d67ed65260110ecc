"""Issue 21, class 4: a flag means the same in every spelling absl accepts, or is refused in
one line: ``-preset NAME`` is ``--preset NAME``; a ``--preset`` inside a ``--flagfile`` (which
absl would read as a plain string, silently training the defaults) is refused."""

import pytest

from masktrainer.cli import main, parse_commands

PRESET = "dense_conv2_adam"


def _cfg(argv):
    return parse_commands(["prog", *argv]).commands[0].cfg


@pytest.mark.parametrize("spelling", [["-preset", PRESET], [f"-preset={PRESET}"]])
def test_one_dash_preset_means_what_two_dashes_mean(spelling, tmp_path):
    out = f"--outputpath={tmp_path}"
    assert _cfg([*spelling, out]) == _cfg(["--preset", PRESET, out])
    assert _cfg([*spelling, out]) != _cfg([out])


def test_a_preset_inside_a_flagfile_is_refused_in_one_line(tmp_path, capsys):
    flagfile = tmp_path / "my.flags"
    flagfile.write_text(f"--preset={PRESET}\n")
    capsys.readouterr()
    assert main(["prog", f"--flagfile={flagfile}", f"--outputpath={tmp_path / 'out'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("masktrainer: error: --preset inside a --flagfile is not supported")
    assert not (tmp_path / "out").exists()


def test_one_dash_preset_given_twice_is_refused(tmp_path, capsys):
    capsys.readouterr()
    assert main(["prog", "-preset", PRESET, "--preset", PRESET,
                 f"--outputpath={tmp_path / 'out'}"]) == 2
    assert capsys.readouterr().err == "masktrainer: error: give --preset once\n"


def test_one_dash_preset_list_lists(capsys):
    assert main(["prog", "-preset", "list"]) == 0
    assert PRESET in capsys.readouterr().out


def test_other_flags_inside_a_flagfile_are_honoured(tmp_path):
    flagfile = tmp_path / "my.flags"
    flagfile.write_text("--lr=0.0042\n")
    assert _cfg([f"--flagfile={flagfile}", f"--outputpath={tmp_path}"]).lr == 0.0042

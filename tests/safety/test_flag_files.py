"""Issue 21, classes 5 and 7: a --flagfile (nested ones too) that is a FIFO, a device, too
large or not UTF-8 is one line and exit status 2, never a hang or a traceback, in every
subcommand."""

import os

import pytest

from masktrainer.cli import main
from masktrainer.commands import FLAGFILE_LIMIT


def _bad_files(tmp_path):
    fifo = tmp_path / "fifo.flags"
    os.mkfifo(fifo)  # reading it would block forever
    binary = tmp_path / "binary.flags"
    binary.write_bytes(b"\xff\xfe--lr=1\n")
    big = tmp_path / "big.flags"
    with open(big, "wb") as handle:
        handle.truncate(FLAGFILE_LIMIT + 1)
    nested = tmp_path / "nested.flags"
    nested.write_text("--flagfile=/dev/zero\n")
    return {"fifo": (fifo, "is not a regular file"), "zero": ("/dev/zero", "is not a regular file"),
            "binary": (binary, "is not UTF-8 text"), "big": (big, "is larger than"),
            "nested": (nested, "/dev/zero is not a regular file")}


@pytest.mark.parametrize("kind", ["fifo", "zero", "binary", "big", "nested"])
@pytest.mark.parametrize("command", [[], ["export"], ["evaluate"]])
def test_a_hostile_flag_file_is_one_line(kind, command, tmp_path, capsys):
    path, reason = _bad_files(tmp_path)[kind]
    capsys.readouterr()
    assert main(["masktrainer", *command, f"--flagfile={path}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("masktrainer: error: --flagfile") and reason in err, err

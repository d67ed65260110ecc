"""masktrainer.user_paths: the checks of paths the user gives (the commands' one-line refusals
are in tests/safety/test_control_characters.py and tests/safety/test_os_errors.py)."""

import pytest

from masktrainer import safe_io
from masktrainer.errors import RunStateError
from masktrainer.options import Option
from masktrainer.user_paths import (
    control_character,
    folder_problem,
    given_path,
    given_paths_problem,
    shown,
)


def test_control_characters_are_found_and_shown_escaped():
    assert control_character("runs/ok é \udcff") is None  # non-ASCII and non-UTF-8 bytes pass
    assert control_character("a\x00b") == "a NUL character"
    assert control_character("a\x7fb") == "a control character ('\\x7f')"
    assert control_character("a\x85b") == "a control character ('\\x85')"  # C1 NEL
    # str.splitlines breaks at the line and paragraph separators too.
    assert control_character("a\u2028b") == "a line separator ('\\u2028')"
    assert control_character("a\u2029b") == "a line separator ('\\u2029')"
    assert control_character("a\u200bb") is None  # a zero-width space breaks no line
    assert shown("a\u2028b\u2029c") == "a\\u2028b\\u2029c"
    with pytest.raises(RunStateError, match="a path must not contain a line separator"):
        given_path("runs\u2028x", "--out")
    assert "line separator" in folder_problem("a\u2029b")
    assert shown("a\nb\tc") == "a\\nb\\tc"
    with pytest.raises(RunStateError, match=r"^--out a\\nb: a path must not contain"):
        given_path("a\nb", "--out")
    assert "control character" in folder_problem(b"a\rb")
    with pytest.raises(ValueError, match="--split_dir must not contain a control character"):
        Option("split_dir", str).check("x\ny")


def test_given_paths_problem_names_the_first_refused_flag(tmp_path):
    assert given_paths_problem({"--runs": str(tmp_path), "--out": None}) is None
    long = str(tmp_path / ("a" * 300))
    problem = given_paths_problem({"--runs": str(tmp_path), "--out": long, "--x": "a\nb"})
    assert problem.startswith("--out ") and problem.endswith("File name too long")
    assert safe_io.given_path is given_path  # the I/O module re-exports the checks

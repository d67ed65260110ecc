"""Issue 21, class 5: a sweep whose product would be huge (a --grid of 10^12 members, tens of
thousands of seeds) is refused in one line before any member is built, and a sweep at the bound
is still accepted."""

import pytest

from masktrainer.cli import main
from masktrainer.sweep import MAX_MEMBERS, check_size, members, parse_grid


def _values(count: int) -> str:
    return ",".join(f"0.{i + 1:06d}" for i in range(count))


HUGE_GRID = [f"--grid={name}={_values(1000)}" for name in ("lr", "weight_decay", "p1", "momentum")]


@pytest.mark.parametrize("args, message", [
    (HUGE_GRID, "the sweep would have over 10,000 members (1000 x 1000 x 1000 x 1000)"),
    ([f"--grid=lr={_values(20_000)}"], "the sweep would have over 10,000 members (20000)"),
    (["--seeds=" + ",".join(str(s) for s in range(1, 201)), f"--grid=lr={_values(100)}"],
     "the sweep would have over 10,000 members (200 x 100)"),
    (["--seeds=" + ",".join(str(s) for s in range(1, 20_002))], "--seeds names 20,001 seeds"),
], ids=["grid 10^12", "one long grid", "seeds x grid", "seeds"])
def test_a_huge_sweep_is_one_line_before_any_member(args, message, tmp_path, capsys):
    out = tmp_path / "Outputs"
    assert main(["masktrainer", "--traintype=FreePruning", f"--outputpath={out}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("masktrainer: error: ") and err.count("\n") == 1, err[:500]
    assert message in err and "Traceback" not in err and len(err) < 400
    assert not out.exists()


def test_the_bound_itself_is_a_valid_sweep():
    grid = parse_grid([f"lr={_values(100)}", f"p1={_values(100)}"], set())
    check_size(None, grid)
    assert len(members(None, grid)) == MAX_MEMBERS
    with pytest.raises(Exception, match="over 10,000 members"):
        members([1, 2], grid)

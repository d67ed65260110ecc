"""Issue 21, class 6: every numeric option is bounded where it is declared, so an absurd value
(a batch of 10^20, a 400-digit seed, K=10^9 slots, a width of 1e300, an endless --stop_after)
is one line with the reason and exit status 2, before any run folder exists."""

import pytest

from masktrainer.cli import main
from masktrainer.config import OPTIONS

HUGE_SEED = str(9**420)  # 401 digits: no float holds it

REFUSED = [
    (["--batchsize=100000000000000000000"], "--batchsize must be an integer in [1, 2097152]"),
    ([f"--seed={HUGE_SEED}"], "--seed must be an integer in [0, 2147483646]"),
    (["--traintype=SlotMachine", "--slots=1000000000"], "--slots must be an integer in [2, 1024]"),
    (["--nettype=Conv4Wide", "--width_mult=1e300"], "--width_mult must be a number in (0, 64]"),
    (["--maxepochs=1000000000000"], "--maxepochs must be an integer in [0, 1000000]"),
    (["--eval_batchsize=100000000000"], "--eval_batchsize must be an integer in [1, 2097152]"),
    (["--validation_size=100000000000"], "--validation_size must be an integer in [1, 2097152]"),
    (["--heartbeat_minutes=1e308"], "--heartbeat_minutes must be a number in [0, 10080]"),
    (["--checkpoint_every=100000000000000"], "--checkpoint_every must be an integer in [0, "),
    (["--eval_every=10000000000000"], "--eval_every must be an integer in [1, 1000000]"),
    (["--data_dir="], "--data_dir must not be empty"),  # not the built-in MNIST in silence
]


@pytest.mark.parametrize("args, start", REFUSED, ids=lambda v: str(v)[:30])
def test_an_absurd_value_is_one_line_before_any_run_folder(args, start, tmp_path, capsys):
    out = tmp_path / "Outputs"
    capsys.readouterr()
    assert main(["prog", *args, f"--outputpath={out}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith(f"masktrainer: error: {start}"), err
    assert len(err) < 300  # a 400-digit value is not echoed whole
    assert not out.exists()


def test_every_numeric_shared_option_has_an_upper_bound_with_a_reason():
    unbounded = [o.name for o in OPTIONS.values() if o.kind in (int, float) and o.maximum is None
                 and o.name not in ("lr", "weight_decay", "score_init_constant")]
    assert unbounded == []
    no_reason = [o.name for o in OPTIONS.values() if o.maximum is not None and not o.why
                 and o.minimum is not None and o.maximum > 1
                 and o.name != "steps_per_execution"]
    assert no_reason == [], no_reason


def test_a_huge_seed_in_a_config_file_is_refused_too(tmp_path, capsys):
    config = tmp_path / "config.json"
    config.write_text('{"seed": %s}' % HUGE_SEED)
    capsys.readouterr()
    assert main(["prog", f"--config={config}", f"--outputpath={tmp_path / 'out'}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seed" in err and "Traceback" not in err, err


@pytest.mark.parametrize("command, args, start", [
    ("crosscheck", ["--stop_after", "inf"],
     "--stop_after must be a number of minutes in (0, 43200]"),
    ("crosscheck", ["--stop_after", "nan"],
     "--stop_after must be a number of minutes in (0, 43200]"),
    ("crosscheck", ["--seeds", "1000000000000"], "--seeds N must be in 1..1000"),
    ("crosscheck", ["--seeds", "1,99999999999"],
     "--seeds takes at most 1000 seeds, each at most 2147483646"),
    ("compare", ["--seeds", "1000000000000"], "--seeds must be in 1..1000"),
    ("compare", ["--epochs", "1000000000000"], "--epochs must be in 1..1000000"),
])
def test_the_crosscheck_and_compare_bound_their_numbers(command, args, start, tmp_path,
                                                         capsys):
    from experiments.compare.__main__ import main as compare
    from experiments.crosscheck.__main__ import main as crosscheck

    capsys.readouterr()
    out = tmp_path / "out"
    assert {"crosscheck": crosscheck, "compare": compare}[command](
        [*args, "--outputpath", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and start in err and "Traceback" not in err, err
    assert not out.exists()


def test_evaluate_refuses_an_empty_data_dir(tmp_path, capsys):
    capsys.readouterr()
    assert main(["prog", "evaluate", "--run", str(tmp_path), "--data_dir="]) == 2
    err = capsys.readouterr().err
    assert err == "masktrainer: error: --data_dir must not be empty\n"

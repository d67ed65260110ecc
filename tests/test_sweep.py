"""Issue 14: --seeds and --grid sweeps (resumable), --config and --print_config, --cpu_replicas.

The runs are LeNet FreePruning on the embedded MNIST with 1,000 training images, batch 100
(10 steps per epoch), as the run-safety tests make them.
"""

import json
import os
import signal
from pathlib import Path

import pytest

from masktrainer.cli import main, parse_command, parse_commands
from masktrainer.config import RunConfig
from masktrainer.errors import ConfigError
from masktrainer.run import signals as run_signals

FAST = ["--batchsize=100", "--validation_size=59000", "--eval_batchsize=2000",
        "--checkpoint_every=5", "--progress=none", "--notensorboard"]


def _runs(root: Path) -> dict[int, list[Path]]:
    found: dict[int, list[Path]] = {}
    for config in sorted(root.rglob("config.json")):
        seed = json.loads(config.read_text())["seed"]
        found.setdefault(seed, []).append(config.parent)
    return found


def _status(run: Path) -> str:
    return json.loads((run / "metrics.json").read_text())["status"]


def _interrupt_at(monkeypatch, step: int, occurrence: int) -> None:
    """SIGINT to this process the ``occurrence``-th time a run's optimizer reaches ``step``."""
    original = run_signals.StopAtStepBoundary.on_train_batch_end
    seen = []

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.optimizer.iterations.numpy()) == step:
            seen.append(step)
            if len(seen) == occurrence:
                os.kill(os.getpid(), signal.SIGINT)
        original(self, batch, logs)

    monkeypatch.setattr(run_signals.StopAtStepBoundary, "on_train_batch_end", on_train_batch_end)


def test_seeds_run_in_sequence_skip_finished_and_resume_the_interrupted(tmp_path, capsys,
                                                                       monkeypatch):
    out = tmp_path / "out"
    command = ["masktrainer", "--seeds=1,2", "--maxepochs=1", f"--outputpath={out}", *FAST]
    _interrupt_at(monkeypatch, step=5, occurrence=2)  # inside seed 2's only epoch
    assert main(command) == 128 + signal.SIGINT
    text = capsys.readouterr()
    assert "sweep 1/2 (seed 1): new run" in text.out and "sweep 2/2 (seed 2): new run" in text.out
    assert "run the same command again to continue it" in text.err
    runs = _runs(out)
    assert _status(runs[1][0]) == "complete" and _status(runs[2][0]) == "interrupted"
    assert runs[1][0].parent == runs[2][0].parent  # seeds side by side in one config folder

    monkeypatch.undo()
    assert main(command) == 0
    text = capsys.readouterr().out
    assert f"sweep 1/2 (seed 1): complete in {runs[1][0]}; skipped" in text
    assert f"sweep 2/2 (seed 2): resuming {runs[2][0]}" in text
    assert _runs(out) == runs and _status(runs[2][0]) == "complete"  # no new run directory

    assert main(command) == 0  # everything finished: nothing trains
    assert "sweep: 2 run(s), 2 finished or elsewhere, 0 to train" in capsys.readouterr().out
    assert _runs(out) == runs

    from plotting.groups import group_runs
    from plotting.runs import load_runs

    groups = group_runs(load_runs(out))
    assert len(groups) == 1 and len(groups[0].runs) == 2  # the plotter pools the seeds


def test_grid_runs_every_combination_and_a_rerun_skips_them(tmp_path, capsys):
    out = tmp_path / "out"
    command = ["masktrainer", "--grid=p1=0.3,0.7", "--seed=4", "--maxepochs=0",
               "--initializer=heconstant", f"--outputpath={out}", *FAST]
    assert main(command) == 0
    assert "sweep done: 2 run(s)" in capsys.readouterr().out
    configs = sorted(json.loads(p.read_text())["p1"] for p in out.rglob("config.json"))
    assert configs == [0.3, 0.7]
    assert main(command) == 0
    assert capsys.readouterr().out.count("; skipped") == 2
    assert len(list(out.rglob("config.json"))) == 2
    # runs of the version before --protocol (self-pruning's read as "original") are found
    for path in out.rglob("config.json"):
        config = json.loads(path.read_text())
        del config["protocol"]
        path.write_text(json.dumps(config))
    assert main(command) == 0
    assert capsys.readouterr().out.count("; skipped") == 2


def test_grid_and_seeds_make_the_product_in_order(tmp_path):
    plan = parse_commands(["prog", "--traintype=EdgePopup", "--seeds=1,2",
                           "--grid=keep_ratio=0.3,0.5", "--grid", "lr=0.1,0.2",
                           f"--outputpath={tmp_path}"])
    assert plan.sweep and [c.label for c in plan.commands][:3] == [
        "seed 1, keep_ratio=0.3, lr=0.1", "seed 1, keep_ratio=0.3, lr=0.2",
        "seed 1, keep_ratio=0.5, lr=0.1"]
    assert [(c.cfg.seed, c.cfg.keep_ratio, c.cfg.lr) for c in plan.commands][-1] == (2, 0.5, 0.2)
    assert len(plan.commands) == 8 and not any(c.skip or c.resume_dir for c in plan.commands)


def test_sweep_members_one_per_job_land_where_the_sweep_puts_them(tmp_path, capsys):
    """A scheduler's array: each job runs member I; together they make the sequential
    sweep's runs, in the same folders, and the sequential sweep then finds them all."""
    args = ["masktrainer", "--grid=p1=0.3,0.7", "--seeds=4,5", "--maxepochs=0",
            "--initializer=heconstant", *FAST]
    whole = parse_commands([*args, f"--outputpath={tmp_path / 'whole'}"]).commands
    out = tmp_path / "array"
    for index in (1, 2, 3, 4):
        [command] = parse_commands([*args, f"--outputpath={out}",
                                    f"--sweep_member={index}"]).commands
        expected = whole[index - 1]
        assert command.label == expected.label
        assert command.cfg == RunConfig.from_dict(
            {**expected.cfg.to_dict(), "outputpath": str(out)})
        assert main([*args, f"--outputpath={out}", f"--sweep_member={index}"]) == 0
    found = sorted((json.loads(p.read_text())["p1"], json.loads(p.read_text())["seed"])
                   for p in out.rglob("config.json"))
    assert found == [(0.3, 4), (0.3, 5), (0.7, 4), (0.7, 5)]
    capsys.readouterr()
    assert main([*args, f"--outputpath={out}"]) == 0  # the sequential sweep: all done
    assert "sweep: 4 run(s), 4 finished or elsewhere, 0 to train" in capsys.readouterr().out
    assert len(list(out.rglob("config.json"))) == 4


@pytest.mark.parametrize("args,message", [
    (["--sweep_member=3", "--seeds=1,2"], "--sweep_member 3: the sweep has 2 members (1..2)"),
    (["--sweep_member=1"], "--sweep_member picks one member of a --seeds/--grid sweep"),
    (["--sweep_member=0", "--seeds=1,2"], "--sweep_member"),  # 1-based
    (["--seeds=1,1"], "names seed 1 twice"),
    (["--seeds=0"], "--seeds takes a comma list"),
    (["--seeds=1", "--seed=2"], "give --seed or --seeds, not both"),
    (["--grid=lr"], "--grid takes FLAG=V1,V2"),
    (["--grid=seed=1,2"], "use --seeds"),
    (["--grid=no_such=1,2"], "is not a setting a sweep can vary"),
    (["--grid=lr=0.1,0.2", "--lr=0.3"], "given both as a flag and in --grid"),
    (["--grid=lr=0.1,abc"], "--grid lr=abc"),
    (["--grid=lr=0.1,-1"], "lr=-1: --lr must be"),
    (["--config=/no/such/config.json"], "--config /no/such/config.json"),
])
def test_bad_sweeps_and_configs_are_one_line_before_any_work(args, message, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["masktrainer", f"--outputpath={out}", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("masktrainer: error: ") and err.count("\n") == 1 and message in err, err
    assert not out.exists()


def test_print_config_round_trips_through_config_with_overrides(tmp_path, capsys):
    args = ["masktrainer", "--traintype=EdgePopup", "--keep_ratio=0.3", "--seed=7",
            f"--outputpath={tmp_path / 'out'}"]
    assert main([*args, "--print_config"]) == 0
    printed = capsys.readouterr().out
    settings = json.loads(printed)
    assert settings["keep_ratio"] == 0.3 and settings["lr"] == 0.1  # resolved recipe
    assert not (tmp_path / "out").exists()  # nothing written, nothing trained
    path = tmp_path / "config.json"
    path.write_text(printed)
    same = parse_command(["prog", f"--config={path}"])
    assert same.cfg == RunConfig.from_dict(settings) and same.invocation["config"] == str(path)
    changed = parse_command(["prog", f"--config={path}", "--keep_ratio=0.5", "--seed=8"]).cfg
    assert (changed.keep_ratio, changed.seed, changed.lr) == (0.5, 8, 0.1)
    assert changed.replace(keep_ratio=0.3, seed=7) == same.cfg
    # A run's own config.json (bookkeeping entries and all), or its directory.
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({**settings, "run_id": "abc", "resolved_seed": 7,
                                                 "method": "edge_popup"}))
    assert parse_command(["prog", f"--config={run}"]).cfg == same.cfg
    (run / "config.json").write_text(json.dumps({**settings, "prune_rate": 0.5}))
    assert main(["masktrainer", f"--config={run}"]) == 2
    assert "unknown config field(s): prune_rate" in capsys.readouterr().err
    assert main(["masktrainer", f"--config={path}", "--seeds=1,2", "--print_config"]) == 0
    assert [c["seed"] for c in json.loads(capsys.readouterr().out)] == [1, 2]


def test_cpu_replicas_needs_mirrored_and_an_unset_up_process():
    from masktrainer.run.runtime import replica_note, split_cpu

    with pytest.raises(ConfigError, match="--distribute=mirrored only"):
        RunConfig(cpu_replicas=2)
    cfg = RunConfig(distribute="mirrored", cpu_replicas=2)
    split_cpu(2)  # the test session already made two logical CPUs: nothing to change
    with pytest.raises(ConfigError, match="already set up 2 CPU device"):
        split_cpu(3)
    assert replica_note(cfg, 2) is None
    assert "--cpu_replicas=N" in replica_note(cfg, 1)
    assert replica_note(RunConfig(), 1) is None

"""The cross-check's runs (experiments.crosscheck.runs): command lines parsed by the library,
runs found by what they train, reused when they match their record, resumed when unfinished,
trained otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.crosscheck.records import RUN_INDEX
from experiments.crosscheck.runs import (
    EVALUATION_KEYS,
    CrosscheckError,
    RunRecord,
    RunStore,
    _preset_of,
    command_text,
    experiment_key,
    find_runs,
)
from masktrainer import layout
from masktrainer.config import RunConfig
from masktrainer.methods.upgrade import config_values


class Trainer:
    """Writes a run directory instead of training; ``finish`` False leaves it running."""

    calls: list = []
    finish = True

    def __init__(self, cfg, echo=None, invocation=None, resume_dir=None, resolved_seed=None,
                 callbacks=()):
        self.cfg, self.resume_dir, self.invocation = cfg, resume_dir, invocation
        self.resolved_seed = resolved_seed

    def run(self):
        Trainer.calls.append((self.cfg.slots, self.cfg.seed, self.resume_dir,
                              self.resolved_seed, self.invocation))
        run_dir = Path(self.resume_dir or Path(self.cfg.outputpath) / f"run-{len(Trainer.calls)}")
        run_dir.mkdir(parents=True, exist_ok=True)
        config = {**self.cfg.to_dict(), "resolved_seed": self.resolved_seed or self.cfg.seed}
        (run_dir / layout.CONFIG_FILE).write_text(json.dumps(config))
        status = layout.COMPLETE if Trainer.finish else layout.RUNNING
        metrics = {"testAccuracy": [0.1, 0.9], "epochSeconds": [1.0, 2.5, None],
                   "status": status}
        (run_dir / layout.METRICS_FILE).write_text(json.dumps(metrics))
        return type("Result", (), {"run_dir": run_dir})()


@pytest.fixture()
def store(tmp_path):
    Trainer.calls, Trainer.finish = [], True
    lines: list[str] = []
    yield RunStore(tmp_path, echo=lines.append, trainer=Trainer)
    Trainer.calls, Trainer.finish = [], True


def _flags(tmp_path, slots=2, seed=1, *extra):
    return ["--preset=slot_lenet_greedy", f"--slots={slots}", f"--seed={seed}",
            f"--outputpath={tmp_path / 'x'}", *extra]


def test_commands_and_presets_are_quoted_as_typed():
    assert command_text(["--preset=a", "--lr=0.1", "two words"]) == (
        "python -m masktrainer --preset=a --lr=0.1 'two words'")
    assert _preset_of(["--seed=1", "--preset=laperm_f1"]) == "laperm_f1"
    assert _preset_of(["--preset", "slot_lenet_greedy"]) == "slot_lenet_greedy"
    assert _preset_of(["--preset"]) is None and _preset_of([]) is None


def test_a_record_knows_its_command_and_its_own_time(tmp_path):
    record = RunRecord("a", 1, ["--seed=1"], tmp_path, {}, {"epochSeconds": [1.0, None, 2.5]},
                       False)
    assert record.command == "python -m masktrainer --seed=1" and record.seconds == 3.5
    assert RunRecord("a", 1, [], tmp_path, {}, {}, True).seconds == 0.0


def test_the_experiment_key_ignores_settings_and_evaluation_only():
    base = RunConfig(traintype="SlotMachine", slots=2, seed=1)
    assert "eval_sets" in EVALUATION_KEYS
    same = base.replace(outputpath="elsewhere", progress="none", initial_eval="sets")
    assert experiment_key(same) == experiment_key(base)
    assert experiment_key(base.replace(seed=2)) != experiment_key(base)
    assert experiment_key(base.replace(slots=8)) != experiment_key(base)
    assert json.loads(experiment_key(base))["slots"] == 2


def test_runs_are_keyed_by_what_they_train(tmp_path, store):
    first = store.run("a", 1, _flags(tmp_path))
    # another output folder and progress setting: the same experiment, reused
    again = store.run("b", 1, [*_flags(tmp_path)[:3], f"--outputpath={tmp_path / 'y'}",
                               "--progress=none"])
    other = store.run("c", 2, _flags(tmp_path, seed=2))
    assert again.run_dir == first.run_dir and other.run_dir != first.run_dir
    assert len(Trainer.calls) == 2
    assert config_values(first.config)["slots"] == 2
    assert not first.reused and not again.reused  # trained by this process
    invocation = Trainer.calls[0][4]
    assert invocation == {"preset": "slot_lenet_greedy", "command": _flags(tmp_path),
                          "by": "experiments.crosscheck"}


def test_a_later_crosscheck_reuses_recorded_runs(tmp_path, store):
    first = store.run("a", 1, _flags(tmp_path))
    assert (tmp_path / RUN_INDEX).is_file()
    later = RunStore(tmp_path, echo=lambda line: None, trainer=Trainer)
    assert later.lookup(later.parse(_flags(tmp_path))) == (first.run_dir, layout.COMPLETE)
    record = later.run("a", 1, _flags(tmp_path))
    assert record.reused and record.run_dir == first.run_dir and len(Trainer.calls) == 1


def test_an_edited_run_is_retrained_and_says_why(tmp_path, store):
    first = store.run("a", 1, _flags(tmp_path))
    metrics = json.loads((first.run_dir / layout.METRICS_FILE).read_text())
    (first.run_dir / layout.METRICS_FILE).write_text(json.dumps({**metrics, "forged": 1}))
    lines: list[str] = []
    record = RunStore(tmp_path, echo=lines.append, trainer=Trainer).run("a", 1, _flags(tmp_path))
    assert record.run_dir != first.run_dir and len(Trainer.calls) == 2
    assert "its files differ from the record" in record.retrained
    assert any(line.startswith("   retraining: the stored run") for line in lines)


class Interrupted(Trainer):
    """Leaves its run running and stops with an exception, as a Ctrl-C in training does."""

    def run(self):
        Trainer.finish = False
        try:
            super().run()
        finally:
            Trainer.finish = True
        raise KeyboardInterrupt


def test_an_interrupted_run_is_resumed_in_its_own_folder(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        RunStore(tmp_path, echo=lambda line: None, trainer=Interrupted).run(
            "a", 1, _flags(tmp_path))
    (stopped,) = find_runs(tmp_path).values()
    later = RunStore(tmp_path, echo=lambda line: None, trainer=Trainer)
    assert later.lookup(later.parse(_flags(tmp_path))) == (stopped[0], "resume")
    record = later.run("a", 1, _flags(tmp_path))
    assert record.run_dir == stopped[0] and not record.reused
    _, seed, resume_dir, resolved_seed, _ = Trainer.calls[-1]
    assert (resume_dir, resolved_seed) == (stopped[0], 1)


def test_an_unfinished_run_without_its_record_is_set_aside_not_resumed(tmp_path, store):
    """A run killed outright never wrote its record: nothing vouches for its files."""
    Trainer.finish = False
    with pytest.raises(CrosscheckError, match="did not finish"):
        store.run("a", 1, _flags(tmp_path))
    (killed,) = find_runs(tmp_path).values()
    Trainer.finish = True
    later = RunStore(tmp_path, echo=lambda line: None, trainer=Trainer)
    assert later.lookup(later.parse(_flags(tmp_path))) == (None, None)
    record = later.run("a", 1, _flags(tmp_path))
    assert record.run_dir != killed[0] and killed[0].is_dir()  # set aside, never deleted
    assert "unfinished; set aside, not resumed" in record.retrained


def test_find_runs_skips_what_is_not_a_run_of_this_version(tmp_path, store):
    store.run("a", 1, _flags(tmp_path))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / layout.CONFIG_FILE).write_text('{"traintype": "NoSuchMethod"}')
    (tmp_path / "y").mkdir()
    (tmp_path / "y" / layout.CONFIG_FILE).write_text("not json")
    found = find_runs(tmp_path)
    assert [path.name for paths in found.values() for path in paths] == ["run-1"]
    assert find_runs(tmp_path / "missing") == {}


def test_a_bad_command_line_is_a_one_line_error(tmp_path, store):
    with pytest.raises(CrosscheckError, match=r"^python -m masktrainer --slots=0 .*: ") as error:
        store.parse(["--slots=0", "--traintype=SlotMachine"])
    assert "\n" not in str(error.value)


class Killed(BaseException):
    """Stands for SIGKILL: nothing of the cross-check's own runs after it."""


def test_a_run_killed_outright_resumes_from_its_last_epoch(tmp_path, mnist_splits,
                                                           monkeypatch):
    """The real trainer, killed as its second epoch begins, with no exception handling left
    to record it (SIGKILL): the record written as that epoch began lets the next cross-check
    resume it in its own folder from the first epoch's checkpoint."""
    import keras

    from masktrainer.data.preprocessing import Splits
    from masktrainer.run.trainer import Trainer as RealTrainer

    small = Splits(mnist_splits.x_train[:600], mnist_splits.y_train[:600],
                   mnist_splits.x_val[:200], mnist_splits.y_val[:200],
                   mnist_splits.x_test[:200], mnist_splits.y_test[:200],
                   mnist_splits.num_classes, mnist_splits.source)
    made: list = []

    class KillAtEpoch2(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 1:
                raise Killed

    def trainer(cfg, kill=False, **kwargs):
        kwargs["callbacks"] = (*kwargs.get("callbacks", ()), *((KillAtEpoch2(),) if kill else ()))
        made.append(kwargs.get("resume_dir"))
        return RealTrainer(cfg, data=small, **kwargs)

    flags = ["--traintype=FreePruning", "--nettype=LeNet", "--maxepochs=3", "--batchsize=100",
             "--seed=4", "--protocol=held_out", "--progress=none", "--notensorboard",
             f"--outputpath={tmp_path / 'x'}"]
    dying = RunStore(tmp_path, echo=lambda line: None,
                     trainer=lambda cfg, **kw: trainer(cfg, kill=True, **kw))
    monkeypatch.setattr(dying, "_record_stopped", lambda *args: None)  # no handler runs
    with pytest.raises(Killed):
        dying.run("a", 1, flags)
    (killed,) = [path for paths in find_runs(tmp_path).values() for path in paths]
    assert layout.read_status(killed) == layout.RUNNING
    first_epoch = layout.read_metrics(killed)
    assert first_epoch["epochs_completed"] == 1

    later = RunStore(tmp_path, echo=lambda line: None, trainer=trainer)
    assert later.lookup(later.parse(flags)) == (killed, "resume")
    record = later.run("a", 1, flags)
    assert record.run_dir == killed and made[-1] == killed and not record.retrained
    assert record.metrics["status"] == layout.COMPLETE
    assert record.metrics["epochs_completed"] == 3
    # resumed after epoch 1, not from the start: epoch 1 was not trained again
    assert record.metrics["epochSeconds"][1] == first_epoch["epochSeconds"][1]
    # finished now: recorded as such and reused, never trained again
    again = RunStore(tmp_path, echo=lambda line: None, trainer=trainer).run("a", 1, flags)
    assert again.reused and len(made) == 2

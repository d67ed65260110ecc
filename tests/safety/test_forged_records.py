"""Reports that cannot be told what to say (issue 21, class 3): the cross-check reuses a stored
run or a cached checkpoint score only if it matches the record the cross-check sealed when it
produced it; a relabelled ``config.json``, edited metrics, a run copied in from elsewhere or a
cache entry typed in by hand is retrained or re-evaluated, and the report says which. An
unfinished run is resumed only if it matches the record written when its training stopped;
one changed since (or never recorded) is set aside, kept as it is, and trained anew."""

import csv
import json
from pathlib import Path

import pytest

from experiments.crosscheck.checkpoints import CACHE, CheckpointEvaluator
from experiments.crosscheck.driver import Options, run_crosscheck
from experiments.crosscheck.records import RUN_INDEX, seal_score, sha256_file
from experiments.crosscheck.runs import RunStore

# What the fake trainer "measures" per slot count: K=2 passes C4's check, a forger wants K=8's.
ACCURACY = {2: 0.9645, 8: 0.9712}


class HonestTrainer:
    """Writes a finished run (config.json, metrics.json, model.keras) instead of training."""

    calls: list = []

    def __init__(self, cfg, echo=None, invocation=None, resume_dir=None, resolved_seed=None,
                 callbacks=()):
        self.cfg, self.resume_dir = cfg, resume_dir

    def run(self):
        HonestTrainer.calls.append((self.cfg.slots, self.cfg.seed))
        run_dir = Path(self.cfg.outputpath) / f"run-{len(HonestTrainer.calls)}"
        run_dir.mkdir(parents=True)
        config = {**self.cfg.to_dict(), "resolved_seed": self.cfg.seed}
        (run_dir / "config.json").write_text(json.dumps(config))
        accuracy = ACCURACY[self.cfg.slots]
        metrics = {"testAccuracy": [0.1, accuracy], "valAccuracy": [0.1, accuracy],
                   "epochSeconds": [1.0, 2.0], "changedFromInitial": [0.0, 0.4],
                   "best": {"epoch": 1, "testAccuracy": accuracy, "valAccuracy": accuracy},
                   "status": "complete"}
        (run_dir / "metrics.json").write_text(json.dumps(metrics))
        (run_dir / "model.keras").write_bytes(b"weights of K=%d" % self.cfg.slots)
        return type("Result", (), {"run_dir": run_dir})()


@pytest.fixture
def trainer():
    HonestTrainer.calls = []
    yield HonestTrainer
    HonestTrainer.calls = []


def _store(out):
    lines = []
    return RunStore(out, echo=lines.append, trainer=HonestTrainer), lines


def _flags(out, slots, seed=1):
    return ["--preset=slot_lenet_greedy", f"--slots={slots}", f"--seed={seed}",
            f"--outputpath={out / 'x'}"]


def test_an_untouched_run_is_reused(tmp_path, trainer):
    store, _ = _store(tmp_path)
    first = store.run("a", 1, _flags(tmp_path, 2))
    again, lines = _store(tmp_path)
    second = again.run("a", 1, _flags(tmp_path, 2))
    assert second.run_dir == first.run_dir and second.reused and not second.retrained
    assert len(trainer.calls) == 1 and "matches its record" in lines[0]
    assert json.loads((tmp_path / RUN_INDEX).read_text())["runs"]


@pytest.mark.parametrize("forgery", ["relabel", "metrics", "model", "unrecorded", "index"])
def test_a_forged_store_entry_is_retrained(tmp_path, trainer, forgery):
    store, _ = _store(tmp_path)
    k2 = store.run("a", 1, _flags(tmp_path, 2)).run_dir
    k8 = store.run("b", 1, _flags(tmp_path, 8)).run_dir
    if forgery == "relabel":  # the K=2 run now claims to be K=8's and K=8's is gone
        config = json.loads((k2 / "config.json").read_text())
        (k2 / "config.json").write_text(json.dumps({**config, "slots": 8}))
        for name in ("config.json", "metrics.json", "model.keras"):
            (k8 / name).unlink()
        k8.rmdir()
        wanted = 8
    elif forgery == "metrics":  # the K=2 run's numbers raised
        metrics = json.loads((k2 / "metrics.json").read_text())
        metrics["testAccuracy"][-1] = metrics["best"]["testAccuracy"] = 0.999
        (k2 / "metrics.json").write_text(json.dumps(metrics))
        wanted = 2
    elif forgery == "model":  # another network swapped in
        (k2 / "model.keras").write_bytes(b"weights of K=8")
        wanted = 2
    elif forgery == "unrecorded":  # a finished-looking run copied in from elsewhere
        copy = k2.parent / "run-copied"
        copy.mkdir()
        for name in ("config.json", "metrics.json", "model.keras"):
            (copy / name).write_bytes((k2 / name).read_bytes())
        index = json.loads((tmp_path / RUN_INDEX).read_text())
        del index["runs"][str(k2.relative_to(tmp_path))]
        (tmp_path / RUN_INDEX).write_text(json.dumps(index))
        wanted = 2
    else:  # the index itself is not JSON: nothing is trusted
        (tmp_path / RUN_INDEX).write_text("{not json")
        wanted = 2
    before = len(trainer.calls)
    again, lines = _store(tmp_path)
    record = again.run("c", 1, _flags(tmp_path, wanted))
    assert len(trainer.calls) == before + 1  # trained again, not reused
    assert not record.reused and "did not match its record" in record.retrained
    assert any(line.startswith("   retraining: the stored run") for line in lines)
    assert json.loads((record.run_dir / "metrics.json").read_text())["best"]["testAccuracy"] \
        == ACCURACY[wanted]
    # and the next cross-check trusts the run it trained itself
    third, _ = _store(tmp_path)
    assert third.run("d", 1, _flags(tmp_path, wanted)).run_dir == record.run_dir


def test_the_report_says_a_run_was_retrained(tmp_path, trainer):
    out = tmp_path / "cc"
    opts = Options(["C4"], out, [1])
    run_crosscheck(opts, echo=lambda _: None, store=_store(out)[0],
                   evaluator=CheckpointEvaluator(out, None, None, lambda argv: (1, "", "")))
    run_dir = next((out / "C4").glob("run-*"))
    metrics = json.loads((run_dir / "metrics.json").read_text())
    (run_dir / "metrics.json").write_text(json.dumps({**metrics, "note": "edited"}))
    run_crosscheck(opts, echo=lambda _: None, store=_store(out)[0],
                   evaluator=CheckpointEvaluator(out, None, None, lambda argv: (1, "", "")))
    row = next(csv.DictReader((out / "crosscheck.csv").open()))
    assert "retrained: the stored run" in row["reason"] and "metrics.json" in row["reason"]
    assert "retrained" in (out / "crosscheck.md").read_text()


def _checkpoints(tmp_path):
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    (pretrained / "F1.h5").write_bytes(b"a random network")
    return pretrained


def _evaluator(out, pretrained, score, calls):
    def evaluate(argv):
        calls.append(argv)
        return 0, f"test accuracy {score:.2f}%\n", ""
    return CheckpointEvaluator(out, pretrained, None, evaluate)


def _r1(evaluator):
    from experiments.crosscheck.catalogue import by_id
    from experiments.crosscheck.checks import published

    target = by_id()["R1"]
    return evaluator.judge(target, float(published()[target.published[0]]["value"]))


@pytest.mark.parametrize("forgery", ["typed", "edited", "other file", "not json"])
def test_a_forged_cache_entry_is_not_reported_as_pass(tmp_path, forgery):
    pretrained, out = _checkpoints(tmp_path), tmp_path / "cc"
    out.mkdir()
    calls: list = []
    first = _r1(_evaluator(out, pretrained, 12.34, calls))  # a random network: 12.34 %
    assert first.status == "fail" and len(calls) == 1
    cache = json.loads((out / CACHE).read_text())
    (key, entry), = cache.items()
    checksum = sha256_file(pretrained / "F1.h5")
    if forgery == "typed":  # an entry in the old shape, with the published number
        cache = {f"{checksum}|F1.h5|F1|None": {"accuracy": 85.46, "seconds": 1.0}}
    elif forgery == "edited":  # the measured entry with its accuracy raised
        cache[key] = {**entry, "accuracy": 85.46}
    elif forgery == "other file":  # an honest sealed entry of another file, moved here
        fields = {k: v for k, v in entry.items() if k != "digest"}
        other = seal_score(f"{'0' * 64}|F1.h5|F1|None",
                           {**fields, "accuracy": 85.46, "checkpoint_sha256": "0" * 64})
        cache = {key: other}
        assert key.startswith(checksum)
    (out / CACHE).write_text("{oops" if forgery == "not json" else json.dumps(cache))
    again = _r1(_evaluator(out, pretrained, 12.34, calls))
    assert again.status == "fail" and again.ours == "12.34 %" and len(calls) == 2
    if forgery != "not json":
        assert "re-evaluated: the cached score did not match its record" in again.reason
    # an honest entry is trusted: no third evaluation
    assert _r1(_evaluator(out, pretrained, 99.0, calls)).ours == "12.34 %" and len(calls) == 2


def test_a_replaced_checkpoint_is_evaluated_again(tmp_path):
    pretrained, out = _checkpoints(tmp_path), tmp_path / "cc"
    out.mkdir()
    calls: list = []
    _r1(_evaluator(out, pretrained, 85.46, calls))
    (pretrained / "F1.h5").write_bytes(b"another random network")
    verdict = _r1(_evaluator(out, pretrained, 11.0, calls))
    assert len(calls) == 2 and verdict.status == "fail"


def test_a_link_at_the_records_is_one_line_and_writes_nothing_through_it(tmp_path, trainer):
    from experiments.crosscheck.runs import CrosscheckError

    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    out = tmp_path / "cc"
    out.mkdir()
    (out / RUN_INDEX).symlink_to(victim)
    (out / CACHE).symlink_to(victim)
    with pytest.raises(CrosscheckError, match="is a link"):
        _store(out)[0].run("a", 1, _flags(out, 2))
    with pytest.raises(CrosscheckError, match="is a link"):
        _r1(_evaluator(out, _checkpoints(tmp_path), 12.34, []))
    assert victim.read_text() == "precious\n"


class StoppingTrainer(HonestTrainer):
    """With ``stop``: leaves an unfinished run (metrics 'running', masks, a checkpoint folder)
    and raises as Ctrl-C would; with ``resume_dir``: finishes that run in its own folder."""

    stop = False

    def run(self):
        if self.resume_dir is None and not StoppingTrainer.stop:
            return super().run()
        if self.resume_dir is not None:
            HonestTrainer.calls.append(("resumed", Path(self.resume_dir)))
            accuracy = ACCURACY[self.cfg.slots]
            metrics = {"testAccuracy": [0.1, accuracy], "valAccuracy": [0.1, accuracy],
                       "epochSeconds": [1.0, 2.0], "status": "complete",
                       "best": {"epoch": 1, "testAccuracy": accuracy, "valAccuracy": accuracy}}
            (Path(self.resume_dir) / "metrics.json").write_text(json.dumps(metrics))
            return type("Result", (), {"run_dir": Path(self.resume_dir)})()
        run_dir = super().run().run_dir
        (run_dir / "metrics.json").write_text(json.dumps({"status": "running"}))
        (run_dir / "model.keras").unlink()
        (run_dir / "masks.npz").write_bytes(b"masks of epoch 1")
        (run_dir / "checkpoint").mkdir()
        (run_dir / "checkpoint" / "resume.json").write_text('{"epoch": 1, "checkpoint": "ckpt-5"}')
        (run_dir / "checkpoint" / "ckpt-5.index").write_bytes(b"index")
        (run_dir / "checkpoint" / "ckpt-5.data-00000-of-00001").write_bytes(b"weights")
        raise KeyboardInterrupt


@pytest.fixture
def stopping(trainer):
    StoppingTrainer.stop = True
    yield StoppingTrainer
    StoppingTrainer.stop = False


def _stopped_run(out, slots):
    """An unfinished run of K=``slots`` whose training stopped (KeyboardInterrupt)."""
    with pytest.raises(KeyboardInterrupt):
        RunStore(out, echo=lambda _: None, trainer=StoppingTrainer).run("a", 1, _flags(out, slots))
    StoppingTrainer.stop = False
    (run_dir,) = (out / "x").glob("run-*")
    return run_dir


def test_an_unfinished_run_that_matches_its_record_is_resumed(tmp_path, stopping):
    run_dir = _stopped_run(tmp_path, 2)
    assert json.loads((tmp_path / RUN_INDEX).read_text())["runs"]["x/run-1"]["unfinished"]
    record = RunStore(tmp_path, echo=lambda _: None, trainer=StoppingTrainer).run(
        "a", 1, _flags(tmp_path, 2))
    assert stopping.calls[-1] == ("resumed", run_dir)
    assert record.run_dir == run_dir and not record.retrained
    # finished now: recorded as such, and reused by the next cross-check
    again = RunStore(tmp_path, echo=lambda _: None, trainer=StoppingTrainer)
    assert again.run("a", 1, _flags(tmp_path, 2)).reused and len(stopping.calls) == 2


@pytest.mark.parametrize("forgery,why", [
    ("relabel", "its settings are not the ones recorded"),
    ("config", "config.json"),
    ("arrays", "masks.npz"),
    ("checkpoint", "checkpoint/ckpt-5.data-00000-of-00001"),
    ("resume state", "checkpoint/resume.json"),
    ("unrecorded", "it has no record in runs.json"),
])
def test_a_changed_unfinished_run_is_set_aside_never_resumed(tmp_path, stopping, forgery, why):
    run_dir = _stopped_run(tmp_path, 2)
    wanted = 2
    config = json.loads((run_dir / "config.json").read_text())
    if forgery == "relabel":  # the K=2 run now claims to be K=8's
        (run_dir / "config.json").write_text(json.dumps({**config, "slots": 8}))
        wanted = 8
    elif forgery == "config":  # same experiment, another setting (how it is run)
        (run_dir / "config.json").write_text(json.dumps({**config, "progress": "none"}))
    elif forgery == "arrays":
        (run_dir / "masks.npz").write_bytes(b"masks of another run")
    elif forgery == "checkpoint":
        (run_dir / "checkpoint" / "ckpt-5.data-00000-of-00001").write_bytes(b"other weights")
    elif forgery == "resume state":
        (run_dir / "checkpoint" / "resume.json").write_text('{"epoch": 0, "checkpoint": null}')
    else:  # killed without a chance to record itself (SIGKILL)
        (tmp_path / RUN_INDEX).write_text(json.dumps({"format": 1, "runs": {}}))
    before = {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()}
    store, lines = _store(tmp_path)
    record = store.run("b", 1, _flags(tmp_path, wanted))
    assert all(call[0] != "resumed" for call in stopping.calls)  # trained anew
    assert record.run_dir != run_dir and not record.reused
    assert "(unfinished; set aside, not resumed) did not match its record" in record.retrained
    assert why in record.retrained
    assert any(line.startswith("   retraining: the stored run") for line in lines)
    assert {p: p.read_bytes() for p in run_dir.rglob("*") if p.is_file()} == before  # kept

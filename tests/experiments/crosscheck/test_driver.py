"""The cross-check: targets and published numbers, the report generator on fabricated run
directories (values in, table out, with pass, fail, not-reproducible and not-run rows),
resumption of a killed cross-check, released-checkpoint evaluation, and its CLI errors."""

import csv
import json
from pathlib import Path

import pytest

from experiments.crosscheck.catalogue import by_id
from experiments.crosscheck.checkpoints import CheckpointEvaluator
from experiments.crosscheck.driver import Options, run_crosscheck
from experiments.crosscheck.runs import RunStore

# Fabricated test accuracy (fractions) per (traintype, nettype, slots or selection).
ACCURACY = {("LaPerm", "F1"): 0.8551, ("LaPerm", "F2"): 0.7070,
            ("SlotMachine", "greedy", 8): 0.9712, ("SlotMachine", "greedy", 2): 0.9645}


def _accuracy(cfg) -> float:
    if cfg.traintype == "SlotMachine":
        return ACCURACY[(cfg.traintype, cfg.selection, cfg.slots)]
    return ACCURACY[(cfg.traintype, cfg.nettype)]


class FakeTrainer:
    """Writes a finished run directory (config.json, metrics.json) instead of training.
    ``die_on`` makes the n-th new run leave a 'running' directory and raise, as a kill would."""

    calls: list = []
    die_on: int | None = None

    def __init__(self, cfg, echo=None, invocation=None, resume_dir=None, resolved_seed=None,
                 callbacks=()):
        self.cfg, self.resume_dir, self.invocation = cfg, resume_dir, invocation

    def run(self):
        FakeTrainer.calls.append((self.cfg.traintype, self.cfg.nettype, self.cfg.seed,
                                  self.resume_dir is not None))
        run_dir = Path(self.resume_dir or Path(self.cfg.outputpath) / f"run-{len(self.calls)}")
        run_dir.mkdir(parents=True, exist_ok=True)
        config = {**self.cfg.to_dict(), "resolved_seed": self.cfg.seed,
                  "invocation": self.invocation}
        (run_dir / "config.json").write_text(json.dumps(config))
        accuracy = _accuracy(self.cfg)
        metrics = {"testAccuracy": [0.1, accuracy], "valAccuracy": [0.1, accuracy],
                   "epochSeconds": [1.0, 2.5], "changedFromInitial": [0.0, 0.4],
                   "best": {"epoch": 1, "testAccuracy": accuracy, "valAccuracy": accuracy},
                   "status": "complete"}
        if FakeTrainer.die_on == len(FakeTrainer.calls):
            (run_dir / "metrics.json").write_text(json.dumps({**metrics, "status": "running"}))
            raise KeyboardInterrupt  # killed mid-run
        (run_dir / "metrics.json").write_text(json.dumps(metrics))
        return type("Result", (), {"run_dir": run_dir})()


@pytest.fixture
def fake_trainer():
    FakeTrainer.calls, FakeTrainer.die_on = [], None
    yield FakeTrainer
    FakeTrainer.calls, FakeTrainer.die_on = [], None


def _evaluator(folder, pretrained, scores):
    def evaluate(argv):
        file = Path(argv[argv.index("--weights") + 1]).name
        if file not in scores:
            return 1, "", "masktrainer evaluate: error: the file does not match the model\n"
        # what a TensorFlow process may print on stderr must not hide the last stdout line
        return 0, f"loading...\ntest accuracy {scores[file]:.2f}%\n", "E0000 cuInit failed\n"
    return CheckpointEvaluator(folder, pretrained, None, evaluate)


def _report(folder):
    rows = list(csv.DictReader((folder / "crosscheck.csv").open()))
    return {row["target"]: row for row in rows}, (folder / "crosscheck.md").read_text()


def test_report_from_fabricated_runs(tmp_path, fake_trainer):
    pretrained = tmp_path / "pretrained"
    pretrained.mkdir()
    for name in ("F1.h5", "F2.h5", "Conv7.h5"):
        (pretrained / name).write_bytes(name.encode())
    out = tmp_path / "cc"
    opts = Options(["C1", "C2", "C4", "C5", "R1", "R2", "R3", "R4", "G6"], out, [1, 2])
    store = RunStore(out, echo=lambda _: None, trainer=FakeTrainer)
    evaluator = _evaluator(out, pretrained, {"F1.h5": 85.46, "F2.h5": 70.68})
    run_crosscheck(opts, echo=lambda _: None, store=store, evaluator=evaluator)
    rows, md = _report(out)
    status = {tid: row["status"] for tid, row in rows.items()}
    assert status == {"C1": "pass", "C2": "not reproducible", "C4": "pass", "C5": "fail",
                      "R1": "pass", "R2": "not reproducible", "R3": "fail", "R4": "not run",
                      "G6": "not run"}
    assert rows["C1"]["ours"] == "85.51 ± 0.00 % (2 seeds)" and rows["C1"]["published"] == "85.46 % [A]"
    assert "70.68 %" in rows["C2"]["reason"]  # the checkpoint's own score is quoted
    from experiments.crosscheck.targets import Measured

    below = by_id()["C2"].judge(Measured({"F2": [42.1]}, {"F2": [None]}), True)
    assert below.status == "fail" and "below that too" in below.reason
    assert "FAILS: lowest 97.12 < floor 97.6" in rows["C5"]["reason"]
    assert "evaluate exited 1" in rows["R3"]["reason"] and "resnet50.h5" in rows["R4"]["reason"]
    assert rows["C1"]["wall_s"] == "7"  # the runs' own epoch seconds: 2 seeds × 3.5 s
    assert rows["C1"]["commands"].count("python -m masktrainer --preset=laperm_f1") == 2
    assert "| C5 |" in md and "**fail**" in md and "--seed=2" in md
    # the protocol each target's runs followed and the number it read
    assert rows["C1"]["protocol"] == "original (best test)"  # LaPerm: validation = test
    assert rows["C4"]["protocol"] == "original (test at best val)"  # Slot Machines
    assert rows["R1"]["protocol"] == "" and "| protocol |" in md
    # each run's config records how it was made
    config = json.loads(next((out / "C1").glob("run-*/config.json")).read_text())
    assert config["invocation"]["by"] == "experiments.crosscheck"
    assert config["invocation"]["preset"] == "laperm_f1"
    # a second cross-check reuses every run and every evaluation
    calls = len(FakeTrainer.calls)
    evaluator = _evaluator(out, pretrained, {})  # would fail if it evaluated again
    run_crosscheck(opts, echo=lambda _: None,
                   store=RunStore(out, echo=lambda _: None, trainer=FakeTrainer),
                   evaluator=evaluator)
    assert len(FakeTrainer.calls) == calls
    assert _report(out)[0]["R1"]["status"] == "pass"


def test_a_killed_crosscheck_continues_where_it_stopped(tmp_path, fake_trainer):
    out = tmp_path / "cc"
    opts = Options(["C4", "C5"], out, [1])
    FakeTrainer.die_on = 2  # C4's run finishes, C5's first new run is killed
    with pytest.raises(KeyboardInterrupt):
        run_crosscheck(opts, echo=lambda _: None,
                       store=RunStore(out, echo=lambda _: None, trainer=FakeTrainer),
                       evaluator=_evaluator(out, None, {}))
    rows, _ = _report(out)
    assert rows["C4"]["status"] == "pass" and rows["C5"]["status"] == "not run"
    assert "run the same command again" in rows["C5"]["reason"]
    FakeTrainer.die_on, FakeTrainer.calls = None, []
    run_crosscheck(opts, echo=lambda _: None,
                   store=RunStore(out, echo=lambda _: None, trainer=FakeTrainer),
                   evaluator=_evaluator(out, None, {}))
    # K=2 reused from C4; the killed K=8 run resumed in its own directory, nothing retrained
    assert FakeTrainer.calls == [("SlotMachine", "LeNet", 1, True)]
    rows, _ = _report(out)
    assert rows["C5"]["status"] == "fail" and rows["C5"]["ours"] == "97.12 % (1 seed)"
    assert len(list(out.glob("C5/run-*"))) == 1


def test_the_readme_block_is_replaced_and_nothing_else(tmp_path, fake_trainer):
    from experiments.crosscheck.readme import (
        BEGIN,
        END,
        FULL_BEGIN,
        FULL_END,
        ReadmeError,
        update_readme,
    )

    out = tmp_path / "cc"
    run_crosscheck(Options(["C4"], out, [1]), echo=lambda _: None,
                   store=RunStore(out, echo=lambda _: None, trainer=FakeTrainer),
                   evaluator=_evaluator(out, None, {}))
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nbefore\n{BEGIN}\nold table\n{END}\nafter\n")
    text = update_readme(readme, (out / "crosscheck.md").read_text())
    assert text.startswith("# Title\n\nbefore\n" + BEGIN) and text.endswith(END + "\nafter\n")
    assert "old table" not in text and "| C4 |" in text and "- date: " in text
    assert "--preset=slot_lenet_greedy" not in text  # the commands stay in crosscheck.md
    readme.write_text("no markers\n")
    with pytest.raises(ReadmeError, match="needs one"):
        update_readme(readme, "")
    project = Path(__file__).resolve().parents[3] / "docs" / "crosscheck.md"
    assert project.read_text().count(BEGIN) == 1 == project.read_text().count(END)
    assert project.read_text().count(FULL_BEGIN) == 1 == project.read_text().count(FULL_END)

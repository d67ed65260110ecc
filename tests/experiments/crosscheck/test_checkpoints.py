"""Targets R1-R7 (experiments.crosscheck.checkpoints): the evaluate command of each released
checkpoint, its verdict against the published number, and the cache of sealed scores."""

from __future__ import annotations

import json
import sys

import pytest

from experiments.crosscheck import checks
from experiments.crosscheck.checkpoints import (
    CACHE,
    CHECKPOINT_TARGETS,
    FILE_SCORES,
    CheckpointEvaluator,
)
from experiments.crosscheck.runs import CrosscheckError
from experiments.crosscheck.targets import CHECKPOINT

BY_ID = {target.id: target for target in CHECKPOINT_TARGETS}


class Evaluate:
    """A fake ``masktrainer evaluate``: the scores by file name, and the calls it got."""

    def __init__(self, scores: dict[str, float], code: int = 0) -> None:
        self.scores, self.code, self.calls = scores, code, []

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv)
        file = argv[argv.index("--weights") + 1].rsplit("/", 1)[-1]
        if self.code or file not in self.scores:
            return self.code or 1, "", "loading\nevaluate: error: the file does not fit\n"
        return 0, f"epoch lines\ntest accuracy {self.scores[file]:.2f}%\n", "E0000 noise\n"


@pytest.fixture()
def pretrained(tmp_path):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    for name in ("F1.h5", "F2.h5", "Conv7.h5"):
        (folder / name).write_bytes(name.encode())
    return folder


def _verdict(tmp_path, pretrained, target_id, scores):
    tmp_path.mkdir(exist_ok=True)  # the report's folder, which the driver creates
    evaluator = CheckpointEvaluator(tmp_path, pretrained, None, Evaluate(scores))
    published = checks.published_value(BY_ID[target_id].published[0])
    return evaluator.judge(BY_ID[target_id], published), evaluator


def test_the_targets_cite_published_numbers():
    assert list(BY_ID) == [f"R{i}" for i in range(1, 8)]
    for target in CHECKPOINT_TARGETS:
        assert target.kind == CHECKPOINT and set(target.published) <= set(checks.published())
        file, nettype = target.note.split("|")
        assert file.endswith(".h5") and nettype in ("F1", "F2", "Conv7", "ResNet50")


def test_the_command_is_the_librarys_evaluate(tmp_path, pretrained):
    evaluator = CheckpointEvaluator(tmp_path, pretrained, "/data", Evaluate({}))
    assert evaluator.command(BY_ID["R3"]) == [
        sys.executable, "-m", "masktrainer", "evaluate", "--traintype", "LaPerm", "--nettype",
        "Conv7", "--weights", str(pretrained / "Conv7.h5"), "--data_dir", "/data"]
    assert "--data_dir" not in CheckpointEvaluator(tmp_path, pretrained, None).command(BY_ID["R1"])


def test_a_missing_file_is_not_run(tmp_path, pretrained):
    verdict, _ = _verdict(tmp_path, pretrained, "R4", {})
    assert verdict.status == "not run" and "resnet50.h5 is not in the released" in verdict.reason
    none = CheckpointEvaluator(tmp_path, None, None, Evaluate({})).judge(BY_ID["R1"], 85.46)
    assert none.status == "not run" and "pass --pretrained_dir" in none.reason


def test_pass_fail_and_not_reproducible(tmp_path, pretrained):
    verdict, evaluator = _verdict(tmp_path, pretrained, "R1", {"F1.h5": 85.46})
    assert (verdict.status, verdict.ours) == ("pass", "85.46 %")
    assert evaluator.commands["R1"].startswith("python -m masktrainer evaluate ")
    assert evaluator.seconds["R1"] >= 0
    own = FILE_SCORES["F2.h5"]
    verdict, _ = _verdict(tmp_path / "a", pretrained, "R2", {"F2.h5": own})
    assert verdict.status == "not reproducible" and f"the file itself scores {own} %" in \
        verdict.reason
    verdict, _ = _verdict(tmp_path / "b", pretrained, "R3", {"Conv7.h5": 99.5})
    assert verdict.status == "fail" and verdict.reason.startswith("-0.22 pp from the published")


def test_a_failed_evaluation_quotes_its_last_line(tmp_path, pretrained):
    verdict, _ = _verdict(tmp_path, pretrained, "R1", {})
    assert verdict == checks.Verdict(
        "fail", "—", "evaluate exited 1: evaluate: error: the file does not fit")


def test_scores_are_cached_sealed_and_reused(tmp_path, pretrained):
    verdict, first = _verdict(tmp_path, pretrained, "R1", {"F1.h5": 85.46})
    cache = json.loads((tmp_path / CACHE).read_text())
    (entry,) = cache.values()
    assert entry["accuracy"] == 85.46 and entry["output"] == "test accuracy 85.46%"
    assert {"digest", "checkpoint_sha256", "command", "seconds"} <= set(entry)
    again, second = _verdict(tmp_path, pretrained, "R1", {})  # would fail if evaluated
    assert again.status == "pass" and second.evaluate.calls == []
    (pretrained / "F1.h5").write_bytes(b"another file")  # another checksum: evaluated again
    replaced, third = _verdict(tmp_path, pretrained, "R1", {"F1.h5": 85.0})
    assert replaced.status == "fail" and len(third.evaluate.calls) == 1


def test_an_edited_cache_entry_is_evaluated_again(tmp_path, pretrained):
    _verdict(tmp_path, pretrained, "R1", {"F1.h5": 80.0})
    cache = json.loads((tmp_path / CACHE).read_text())
    for entry in cache.values():
        entry["accuracy"] = 85.46  # typed in by hand: the digest no longer matches
    (tmp_path / CACHE).write_text(json.dumps(cache))
    verdict, evaluator = _verdict(tmp_path, pretrained, "R1", {"F1.h5": 80.0})
    assert verdict.status == "fail" and len(evaluator.evaluate.calls) == 1
    assert "re-evaluated: the cached score did not match its record" in verdict.reason


def test_an_unreadable_cache_is_ignored_and_a_link_refused(tmp_path, pretrained):
    (tmp_path / CACHE).write_text("{not json")
    assert CheckpointEvaluator(tmp_path, pretrained, None).cache == {}
    (tmp_path / CACHE).unlink()
    (tmp_path / "elsewhere.json").write_text("{}")
    (tmp_path / CACHE).symlink_to(tmp_path / "elsewhere.json")
    evaluator = CheckpointEvaluator(tmp_path, pretrained, None, Evaluate({"F1.h5": 85.46}))
    with pytest.raises(CrosscheckError, match="is a link"):
        evaluator.judge(BY_ID["R1"], 85.46)
    assert (tmp_path / "elsewhere.json").read_text() == "{}"

"""experiments.precision_parity: its entries are valid commands, and the verdict rule."""

from __future__ import annotations

import pytest

from experiments.precision_parity import SUITES, _entries, parity_table
from masktrainer.cli import parse_command


@pytest.mark.parametrize("suite", sorted(SUITES))
@pytest.mark.parametrize("images", [None, 10_000])
def test_every_entry_is_a_valid_command(suite, images, tmp_path):
    entries = _entries(suite, images)
    assert [e.label for e in entries] == list(SUITES[suite][1])
    for entry in entries:
        cfg = parse_command(["masktrainer", *entry.flags, "--maxepochs=2",
                             f"--outputpath={tmp_path}", f"--data_dir={tmp_path}"]).cfg
        if images:
            assert (cfg.split, cfg.eval_sets, cfg.protocol) == ("head", "test", "custom")
            total = 60_000 if suite == "lenet" else 50_000
            assert cfg.validation_size == total - images


def test_parity_is_a_difference_within_twice_the_seed_spread():
    def row(method, accuracies):
        return {"method": method, "accuracies": accuracies}

    table = parity_table("t", {
        "float32": [row("a", [90.0, 91.0, 92.0]), row("b", [90.0, 90.0, 90.0]),
                    row("c", [90.0, 90.1, 90.2])],
        "mixed_bfloat16": [row("a", [92.0, 93.0, 94.0]), row("b", [90.1, 90.2, 90.0]),
                           row("c", [91.0, 91.1, 91.2])]})
    lines = {line.split(" | ")[0].strip("| "): line for line in table.splitlines()}
    assert lines["a"].endswith("| yes |")  # +2.00 pp against a 1.00 pp spread: 2 x 1.00
    assert lines["b"].endswith("| yes |")  # +0.10 pp: under the 0.2 pp floor
    assert lines["c"].endswith("| NO |")  # +1.00 pp against 0.10 pp

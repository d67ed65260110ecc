"""experiments.compare.suites: every entry of every suite is a valid command."""

import pytest

from experiments.compare.suites import SUITES
from masktrainer.cli import parse_command


@pytest.mark.parametrize("suite", sorted(SUITES))
def test_every_entry_of_every_suite_is_a_valid_command(suite, tmp_path):
    nets = set()
    for entry in SUITES[suite].entries:
        cfg = parse_command(["masktrainer", *entry.flags, "--maxepochs=3",
                             f"--outputpath={tmp_path}"]).cfg
        nets.add(cfg.dataset)
        assert cfg.protocol == "held_out" and cfg.split == "head"  # the same images for all
    assert len(nets) == 1  # one data set per suite
    labels = [entry.label for entry in SUITES[suite].entries]
    # conv4 adds biprop and LaPerm at lr 3e-4
    assert len(labels) == len(set(labels)) == {"lenet": 11, "conv4": 13}[suite]

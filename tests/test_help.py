"""masktrainer.help: --help groups the flags as a user thinks of them; --help --traintype=X
shows X's defaults and own flags; --helpfull shows everything."""

import re

from masktrainer import commands
from masktrainer.cli import main


def test_short_help_groups_flags_and_lists_subcommands(capsys):
    assert main(["masktrainer", "--help"]) == 0
    text = capsys.readouterr().out
    headings = [line for line in text.splitlines() if line and not line.startswith(" ")
                and line.endswith(":")]
    assert headings[:3] == ["Subcommands:", "Run: what to train and where it goes:",
                            "Training recipe (unset: the chosen method's original recipe):"]
    assert "Seeds, sweeps and configs:" in headings
    assert "Scale-out, resuming and run safety:" in headings
    assert not any("masktrainer." in heading for heading in headings)  # no module names
    for name in commands.SUBCOMMANDS:
        assert re.search(rf"^  {name} +\S", text, re.M), name
    for flag in ("--traintype", "--masktype", "--keep_ratio", "--seeds", "--grid", "--config",
                 "--print_config", "--cpu_replicas", "--resume"):
        assert flag in text, flag
    assert len(text.splitlines()) < 150  # --helpfull is ~220


def test_method_help_shows_that_method_only_and_helpfull_everything(capsys):
    assert main(["masktrainer", "--help", "--traintype", "EdgePopup"]) == 0
    method = " ".join(capsys.readouterr().out.split())  # unwrapped
    assert "--keep_ratio: EdgePopup" in method and "--slots" not in method
    assert "--lr: Learning rate" in method and "Default for this method: 0.1." in method
    assert main(["masktrainer", "--helpfull"]) == 0
    full = capsys.readouterr().out
    assert "--slots: SlotMachine" in full and "--keep_ratio: EdgePopup" in full
    assert main(["masktrainer", "--help", "--traintype=Nope"]) == 2
    assert capsys.readouterr().err.startswith("masktrainer: error: --traintype='Nope'")

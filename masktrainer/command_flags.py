"""The flags of the ``train`` command line that are not run settings (no RunConfig field).

They choose what to run (a preset, a resumed run, a config file, a sweep) rather than how a
run trains, so they are declared here, once, for :mod:`masktrainer.cli` (which defines them)
and :mod:`masktrainer.help` (which lists them). No TensorFlow is imported here.
"""

from __future__ import annotations

from masktrainer.layout import CONFIG_FILE
from masktrainer.options import Option

COMMAND_OPTIONS: tuple[Option, ...] = (
    Option("preset", str, None, "NAME: the flags of an original experiment "
           "(masktrainer/presets/NAME.flags); flags after it override them. --preset list "
           "names them.", group="run"),
    Option("config", str, None, f"FILE: start a new run from the settings of a {CONFIG_FILE} "
           f"(a run's, or --print_config's output; a run directory stands for its {CONFIG_FILE}"
           "); flags given override them.", group="sweep"),
    Option("print_config", bool, False, "Print the resolved settings as JSON (a list for a "
           "sweep) and exit without training.", group="sweep"),
    Option("seeds", str, None, "S1,S2,...: one run per seed (explicit seeds >= 1), in "
           "sequence, into the same config folder. Re-running the same command skips the "
           "finished runs and resumes an interrupted one.", group="sweep"),
    Option("grid", list, None, "FLAG=V1,V2,...: one run per value (repeat --grid for a product "
           "of several flags; with --seeds, every combination per seed); resumable like "
           "--seeds.", group="sweep"),
    Option("sweep_member", int, None, "I: run only the I-th member (1-based, in the order "
           "the sweep runs them; --print_config lists them) of a --seeds/--grid sweep, where "
           "the whole sweep would put it: one job of a scheduler's array each "
           "(e.g. --sweep_member $SLURM_ARRAY_TASK_ID).", minimum=1, group="sweep"),
    Option("resume", str, None, "RUN_DIR: continue a killed run from its last checkpoint, with "
           "its own config (no other flags but --progress).", group="safety"),
    Option("resume_checkpoint", str, None, "ckpt-N: with --resume, continue from this kept "
           "checkpoint instead (the one before the last, when the last is corrupt).",
           group="safety"),
)

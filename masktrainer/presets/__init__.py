"""Presets: one flag file per experiment of the originals (``masktrainer/presets/NAME.flags``).

A preset is an absl flag file: its first comment line says what it runs, the
second which original setting it reproduces, ``# requires: --flag`` lines name
flags the user must add (e.g. ``--finetune_from``), and the rest are flags; every
preset sets ``--protocol`` (the original's: :mod:`masktrainer.protocols`).
``--preset NAME`` stands for ``--flagfile=<its file>`` at its place on the
command line, so any flag after it overrides the preset. No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Sequence

from masktrainer.errors import ConfigError
from masktrainer.text import did_you_mean

SUFFIX = ".flags"


@dataclasses.dataclass(frozen=True)
class Preset:
    name: str
    path: Path
    title: str
    source: str
    requires: tuple[str, ...]
    protocol: str  # its --protocol flag ("" if it sets none)


def preset_dir() -> Path:
    """The flag files' folder: this package's own (installed as its package data)."""
    return Path(__file__).resolve().parent


def _read(path: Path) -> Preset:
    text = path.read_text(encoding="utf-8")
    comments = [line[1:].strip() for line in text.splitlines() if line.startswith("#")]
    title = comments[0] if comments else ""
    source = next((c.removeprefix("original:").strip() for c in comments
                   if c.startswith("original:")), "")
    requires = tuple(c.removeprefix("requires:").strip() for c in comments
                     if c.startswith("requires:"))
    protocol = next((line.strip().split("=", 1)[1] for line in text.splitlines()
                     if line.strip().startswith("--protocol=")), "")
    return Preset(path.stem, path, title, source, requires, protocol)


def all_presets() -> list[Preset]:
    folder = preset_dir()
    return [_read(path) for path in sorted(folder.glob(f"*{SUFFIX}"))] if folder.is_dir() else []


def get_preset(name: str) -> Preset:
    path = preset_dir() / f"{name}{SUFFIX}"
    if not name or "/" in name or not path.is_file():
        names = [p.name for p in all_presets()]
        # A part of names lists some; a typo gets its closest name; else same first word.
        hint = "" if not name or any(name in other for other in names) \
            else did_you_mean(name, names)
        if not hint:
            close = [other for other in names if name and name.split("_")[0] in other][:5]
            hint = f"e.g. {', '.join(close)}" if close else ""
        hint = f" ({hint})" if hint else ""
        raise ConfigError(f"--preset={name!r} is not a preset{hint}; --preset list shows them")
    return _read(path)


def preset_flags(name: str) -> dict[str, str]:
    """The ``--name=value`` flags a preset sets, as written in its file (ConfigError if none)."""
    lines = get_preset(name).path.read_text(encoding="utf-8").splitlines()
    pairs = (line.strip()[2:].split("=", 1) for line in lines if line.strip().startswith("--"))
    return {pair[0]: pair[1] for pair in pairs if len(pair) == 2}


def listing() -> str:
    """``--preset list``: one line per preset (name, protocol, what it runs)."""
    presets = all_presets()
    width = max((len(p.name) for p in presets), default=0)
    return "\n".join(f"{p.name:<{width}}  [{p.protocol or '-'} protocol]  {p.title}"
                     for p in presets) + "\n"


def expand(argv: Sequence[str]) -> tuple[list[str], Preset | None]:
    """argv with ``--preset NAME`` replaced by its flag file (and the preset used)."""
    out: list[str] = []
    preset = None
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--preset" or arg.startswith("--preset="):
            if arg == "--preset":
                if i + 1 >= len(args):
                    raise ConfigError("--preset needs a name (--preset list shows them)")
                name, i = args[i + 1], i + 1
            else:
                name = arg.split("=", 1)[1]
            if preset is not None:
                raise ConfigError("give --preset once")
            preset = get_preset(name)
            out.append(f"--flagfile={preset.path}")
        else:
            out.append(arg)
        i += 1
    return out, preset

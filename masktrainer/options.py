"""Options: one declaration per setting, from which flags are made and values are checked.

An :class:`Option` holds a setting's name, type, default, choices or range and
help text. The command line defines its flags from the options
(:mod:`masktrainer.cli`), :class:`~masktrainer.config.RunConfig` takes its fields
from them, and :meth:`Option.check` is the one place a value's type, choice or
range is tested (the layers reuse it). Nothing here imports TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Iterable

from masktrainer.errors import ConfigError
from masktrainer.text import choice_error
from masktrainer.user_paths import control_character

# Help sections, in the order ``--help`` prints them.
GROUPS = {
    "run": "Run: what to train and where it goes",
    "recipe": "Training recipe (unset: the chosen method's original recipe)",
    "data": "Data",
    "architecture": "Architecture",
    "sweep": "Seeds, sweeps and configs",
    "evaluation": "Evaluation: what is evaluated, and when (unset: what the method's original "
                  "evaluates)",
    "safety": "Scale-out, resuming and run safety",
}

Choices = tuple[str, ...] | Callable[[], tuple[str, ...]] | None


@dataclasses.dataclass(frozen=True)
class Option:
    """One setting: ``kind`` is bool, int, float, str (or list: a repeatable string flag);
    ``default`` None means "the method's recipe" (or "unset"); ``choices`` may be
    a function (lists built from the registries)."""

    name: str
    kind: type
    default: Any = None
    help: str = ""
    choices: Choices = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    why: str = ""  # appended to a range error, e.g. "K=1 leaves nothing to select"
    group: str = "run"
    required: bool = False  # must be set once the method's defaults are filled in
    folder: bool = False  # names a folder read by the run: it must exist before the run starts

    @property
    def annotation(self) -> Any:
        return self.kind if self.default is not None else (self.kind | None)

    def choice_list(self) -> tuple[str, ...] | None:
        return self.choices() if callable(self.choices) else self.choices

    def check(self, value: Any, label: str | None = None, required: bool | None = None) -> None:
        """Raise ConfigError (a ValueError) with a one-line message if ``value`` is invalid.

        ``label`` names the value in the message (default ``--name``); ``required``
        overrides whether None is refused (layers pass True).
        """
        label = label or f"--{self.name}"
        if value is None:
            # An option with a default of its own has no "unset" state.
            if (self.required if required is None else required) or self.default is not None:
                raise ConfigError(f"{label} must be set")
            return
        if self.kind is bool:
            if not isinstance(value, bool):
                raise ConfigError(f"{label} must be true or false (got {value!r})")
            return
        if self.kind is str:
            if not isinstance(value, str):
                raise ConfigError(f"{label} must be a string (got {value!r})")
            found = control_character(value)  # no path or choice holds one (a newline
            if found:  # would split every message naming the value; os calls refuse NUL)
                raise ConfigError(f"{label} must not contain {found}")
            choices = self.choice_list()
            if choices is not None and value not in choices:
                raise ConfigError(choice_error(label, value, choices))
            return
        number_ok = isinstance(value, int) if self.kind is int else isinstance(value, (int, float))
        wrong_type = isinstance(value, bool) or not number_ok or not self._finite(value)
        if wrong_type or not self._in_range(value):
            got = repr(value) if len(repr(value)) <= 40 else f"{repr(value)[:20]}..."
            # The reason for a range says why a value is too large or small, not a type's.
            why = f"; {self.why}" if self.why and not wrong_type else ""
            raise ConfigError(f"{label} must be {self._describe_range()} (got {got}){why}")

    @staticmethod
    def _finite(value: float) -> bool:
        return isinstance(value, int) or math.isfinite(value)  # a 400-digit int has no float

    def _in_range(self, value: float) -> bool:
        low, high = self.minimum, self.maximum
        if low is not None and (value <= low if self.exclusive_minimum else value < low):
            return False
        return high is None or (value < high if self.exclusive_maximum else value <= high)

    def _describe_range(self) -> str:
        noun = "an integer" if self.kind is int else "a finite number"
        low, high = self.minimum, self.maximum
        if low is not None and high is not None:
            left, right = "(" if self.exclusive_minimum else "[", ")" if self.exclusive_maximum else "]"
            return f"{noun} in {left}{_number(low)}, {_number(high)}{right}" if self.kind is int \
                else f"a number in {left}{_number(low)}, {_number(high)}{right}"
        if low is not None:
            return f"{noun} {'>' if self.exclusive_minimum else '>='} {_number(low)}"
        if high is not None:
            return f"{noun} {'<' if self.exclusive_maximum else '<='} {_number(high)}"
        return noun


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


def unique(options: Iterable[Option]) -> tuple[Option, ...]:
    """The options in order, each name once (a name declared twice must be the same option)."""
    seen: dict[str, Option] = {}
    for option in options:
        if option.name in seen and seen[option.name] is not option:
            raise ValueError(f"option {option.name!r} is declared twice")
        seen[option.name] = option
    return tuple(seen.values())


class Draft:
    """The values of a configuration while the method fills in its defaults.

    Attribute access reads a value; :meth:`put` sets one only if it is still
    unset, so an explicit setting always wins and later defaults can depend on
    earlier ones.
    """

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("use Draft.put(name, value)")

    def put(self, name: str, value: Any) -> None:
        if name not in self._values:
            raise KeyError(f"unknown setting {name!r}")
        if self._values[name] is None:
            self._values[name] = value

    def values(self) -> dict[str, Any]:
        return dict(self._values)

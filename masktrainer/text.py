"""Console formatting shared by the trainer and the recorders, and error-message hints."""

from __future__ import annotations

import difflib
import io
import sys
from typing import Iterable


def closest_choice(value: object, choices: Iterable[str]) -> str | None:
    """The choice ``value`` most likely mistypes (case first, then spelling), or None."""
    if not isinstance(value, str) or not value:
        return None
    choices = [str(choice) for choice in choices]
    by_case = [choice for choice in choices if choice.lower() == value.lower()]
    if by_case:
        return by_case[0]
    lowered = {choice.lower(): choice for choice in choices}
    close = difflib.get_close_matches(value.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[close[0]] if close else None


def did_you_mean(value: object, choices: Iterable[str]) -> str:
    """``"did you mean 'X'?"`` for a mistyped choice ``value``, else ``""``."""
    choice = closest_choice(value, choices)
    return "" if choice is None else f"did you mean {choice!r}?"


def choice_error(label: str, value: object, choices: Iterable[str], context: str = "") -> str:
    """The one-line message for a value that is not one of ``choices``, with its hint."""
    choices = [str(choice) for choice in choices]
    hint = did_you_mean(value, choices)
    return (f"{label}={value!r} is not one of: {', '.join(choices)}{context}"
            + (f"; {hint}" if hint else ""))


def pct(value: float) -> str:
    """A fraction as a percentage with two decimals: 0.1234 -> '12.34%'."""
    return f"{100.0 * value:.2f}%"


def tolerant_console() -> None:
    """Let stdout and stderr print any path: a file name that is not UTF-8 (which Python
    carries as surrogates) prints as ``\\udcXX`` where a strict console would raise."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")

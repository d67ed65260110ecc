"""``benchmark_peers``' report: the machine, the table of medians and ratios, the goals.

Each row gives ours ÷ theirs twice: the ratio of the two medians (the goals are judged on
it) and the median of the per-repeat ratios; on a loaded machine the two can disagree.
"""

from __future__ import annotations

import os
import platform
import statistics
from pathlib import Path
from typing import Any

from experiments.peers import GOAL_BF16_VS_FLOAT32, GOAL_FLOAT32, PEERS
from masktrainer import safe_io

BF16_FLAGS = ("avx512_bf16", "amx_bf16", "amx_tile")


def cpu_info(path: str = "/proc/cpuinfo") -> dict[str, Any]:
    """The CPU model and whether it has native bfloat16 instructions (Linux; else unknown)."""
    model, flags = None, None
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name" and model is None:
                    model = value.strip()
                elif key.strip() == "flags" and flags is None:
                    flags = set(value.split())
    except OSError:
        pass
    flags = flags or set()
    return {"model": model or platform.processor() or "unknown", "cores": os.cpu_count(),
            **{flag: flag in flags for flag in BF16_FLAGS}}


def load_average() -> list[float] | None:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def loaded(load: list[float] | None, cores: int | None) -> bool:
    """Whether the 1-minute load average reached the core count."""
    return bool(load and cores and load[0] >= cores)


def load_note(load: list[float], cores: int, omp_wait_policy: str) -> str:
    note = (f"Note: the machine was loaded (load average {load[0]} on {cores} cores), so both "
            "sides shared the cores with other work; quote figures from an idle machine.")
    if omp_wait_policy != "PASSIVE":
        note += (" PyTorch's OpenMP threads spin-wait by default and lose most of their time "
                 "when other processes hold the cores: compare with --omp_wait_policy passive.")
    return note


def ratio_rows(times: dict[tuple[str, str, str], list[float]], nets: list[str],
               precisions: list[str]) -> list[dict[str, Any]]:
    """One row per net and precision (ours ÷ theirs), plus ours bfloat16 ÷ theirs float32:
    the ratio of the medians (the goal's verdict) and the median of the ratios within each
    repeat (paired: both timed in the same repeat, minutes apart at most)."""
    medians = {variant: statistics.median(values) for variant, values in times.items()}
    rows = []
    for key in nets:
        peer = PEERS[key]
        pairs = [(p, p, p) for p in precisions]
        if {"float32", "bfloat16"} <= set(precisions):
            pairs.append(("ours bf16 ÷ theirs float32", "bfloat16", "float32"))
        for label, ours, theirs in pairs:
            ratio = medians[key, "ours", ours] / medians[key, "theirs", theirs]
            paired = statistics.median(
                a / b for a, b in zip(times[key, "ours", ours], times[key, "theirs", theirs]))
            goal = None
            if label == "float32":
                goal = GOAL_FLOAT32
            elif ours != theirs and peer.conv4:
                goal = GOAL_BF16_VS_FLOAT32
            rows.append({"net": key, "title": peer.title, "compare": label,
                         "ours_ms": round(1e3 * medians[key, "ours", ours], 3),
                         "theirs_ms": round(1e3 * medians[key, "theirs", theirs], 3),
                         "ratio": round(ratio, 3), "paired_ratio": round(paired, 3),
                         "goal": goal,
                         "met": None if goal is None else ratio <= goal})
    return rows


def markdown(report: dict[str, Any]) -> str:
    machine, settings = report["machine"], report["settings"]
    cpu = machine["cpu"]
    native = [flag for flag in BF16_FLAGS if cpu[flag]]
    lines = [
        f"Machine: {cpu['model']}, {cpu['cores']} cores, native bfloat16: "
        f"{', '.join(native) if native else 'none'}; Python {machine['python']}, "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, "
        f"PyTorch {machine['torch']} ({machine['torch_cpu_capability']}); "
        f"{settings['threads']} threads each side; load average before "
        f"{report['load_before']}, after {report['load_after']}.",
        "",
        f"Steps per repeat: "
        f"{', '.join(f'{net} {steps}' for net, steps in settings['steps'].items())}; "
        f"{settings['repeats']} interleaved repeats "
        f"(medians), ours with steps_per_execution {settings['steps_per_execution']}, "
        f"XLA as the trainer's default (off on CPU); OMP_WAIT_POLICY "
        f"{settings['OMP_WAIT_POLICY']}.",
        "",
        *([load_note(report["load_before"], cpu["cores"], settings["OMP_WAIT_POLICY"]), ""]
          if loaded(report["load_before"], cpu["cores"]) else []),
        "| net | batch | compared | ours ms/step | theirs ms/step | ours ÷ theirs "
        "| per-repeat ratio | goal |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in report["rows"]:
        goal = "—" if row["goal"] is None else f"≤ {row['goal']} — " + (
            "no verdict (smoke)" if settings["smoke"] else "met" if row["met"] else "not met")
        lines.append(f"| {row['title']} | {settings['batch'][row['net']]} | {row['compare']} | "
                     f"{row['ours_ms']:.2f} | {row['theirs_ms']:.2f} | {row['ratio']:.3f} | "
                     f"{row['paired_ratio']:.3f} | {goal} |")
    return "\n".join(lines) + "\n"


def write(folder: str | os.PathLike, report: dict[str, Any]) -> list[Path]:
    """``benchmark_peers.json`` and ``benchmark_peers.md`` in ``folder`` (created)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [safe_io.atomic_write_json(folder / "benchmark_peers.json", report),
            safe_io.atomic_write_text(folder / "benchmark_peers.md", markdown(report))]

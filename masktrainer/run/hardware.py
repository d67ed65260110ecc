"""What the machine offers a run: the CPU's model and instruction flags (no TensorFlow).

``--precision=mixed_bfloat16`` pays off only where bfloat16 arithmetic is native: on x86
CPUs with AVX512_BF16 or AMX (Linux reports them in ``/proc/cpuinfo``), and on GPUs of
compute capability 8.0 (Ampere) and later. Elsewhere the casts cost more than they save.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

CPUINFO = Path("/proc/cpuinfo")
#: x86 flags of native bfloat16 arithmetic (dot products, matrix tiles).
BFLOAT16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")
#: The first GPU compute capability with bfloat16 tensor cores (Ampere).
BFLOAT16_GPU_CAPABILITY = (8, 0)


def _cpuinfo_field(name: str) -> str | None:
    try:
        with CPUINFO.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return value.strip()
    except OSError:
        return None
    return None


def cpu_flags() -> frozenset[str]:
    """The CPU's instruction flags (empty where the OS does not list them)."""
    return frozenset((_cpuinfo_field("flags") or "").split())


def cpu_model() -> str:
    return _cpuinfo_field("model name") or platform.processor() or platform.machine()


def cpu_has_native_bfloat16() -> bool:
    return any(flag in cpu_flags() for flag in BFLOAT16_CPU_FLAGS)


def describe_cpu() -> dict[str, object]:
    """The CPU as reports name it: model, cores this process may use, bfloat16 flags."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 0
    flags = cpu_flags()
    return {"model": cpu_model(), "cores": cores,
            "bfloat16_flags": [flag for flag in BFLOAT16_CPU_FLAGS if flag in flags]}

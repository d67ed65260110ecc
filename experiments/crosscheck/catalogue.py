"""Every target of the cross-check in report order: the CPU ones (:mod:`.targets`), the GPU
ones (:mod:`.gpu_targets`) and the released checkpoints (:mod:`.checkpoints`). The lists import
the target types from :mod:`.targets`; only this module imports all of them."""

from __future__ import annotations

from experiments.crosscheck.checkpoints import CHECKPOINT_TARGETS
from experiments.crosscheck.gpu_targets import GPU_TARGETS
from experiments.crosscheck.targets import CHECKPOINT, CPU, GPU, STRUCTURE, TARGETS, Target


def by_id() -> dict[str, Target]:
    """Every target: the CPU ones, the GPU ones and the released checkpoints, in report order."""
    ordered = (*TARGETS[:-1], *GPU_TARGETS, TARGETS[-1], *CHECKPOINT_TARGETS)
    return {target.id: target for target in ordered}


def default_ids(full: bool) -> list[str]:
    """CPU targets, the structure checks and the checkpoints; ``--full`` adds the GPU ones."""
    kinds = {CPU, STRUCTURE, CHECKPOINT} | ({GPU} if full else set())
    return [tid for tid, target in by_id().items() if target.kind in kinds]

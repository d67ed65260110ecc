"""The suites of the head-to-head comparison: one network and data set, every method with its
own recipe (a library preset where one exists), trained for the same epochs and seeds, and
measured under one protocol: the held-out one (``--protocol held_out``, the same training
head and validation images for every method; test accuracy at the best-validation epoch)."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Entry:
    label: str
    own_flags: tuple[str, ...]

    @property
    def flags(self) -> tuple[str, ...]:
        return (*self.own_flags, PROTOCOL)


@dataclasses.dataclass(frozen=True)
class Suite:
    name: str
    title: str
    epochs: int  # default; every entry gets the same --maxepochs
    entries: tuple[Entry, ...]
    note: str = ""


KEEP_RATIOS = (0.3, 0.5, 0.7)
PROTOCOL = "--protocol=held_out"  # after every entry's flags: a preset's protocol overridden
SAME_IMAGES = "--split=head"  # Slot Machines' held-out default is its own index split
SELF_PRUNING_LENET = ("--nettype=LeNet", "--lr=0.001", "--batchsize=25")

LENET = Suite("lenet", "LeNet-300-100 on MNIST", 10, (
    Entry("FreePruning", ("--preset=self_pruning_lenet",)),
    Entry("MinPruning", ("--preset=self_pruning_lenet", "--traintype=MinPruning")),
    Entry("FreeFlipping", ("--traintype=FreeFlipping", *SELF_PRUNING_LENET, "--masktype=flip",
                           "--initializer=heconstant")),
    *(Entry(f"edge-popup k {k}", ("--preset=edge_popup_fc_usc", f"--keep_ratio={k}"))
      for k in KEEP_RATIOS),
    Entry("Slot Machines K 2", ("--preset=slot_lenet_greedy", "--slots=2", SAME_IMAGES)),
    Entry("Slot Machines K 8", ("--preset=slot_lenet_greedy", "--slots=8", SAME_IMAGES)),
    Entry("LaPerm", ("--traintype=LaPerm", "--nettype=LeNet")),
    Entry("supermask sampling", ("--traintype=SupermaskSampling", "--nettype=LeNet",
                                 "--lr=200")),
    Entry("dense baseline", ("--preset=dense_fc_adam",)),
))

CONV4 = Suite("conv4", "Conv4 on CIFAR-10", 10, (
    Entry("FreePruning", ("--preset=self_pruning_conv4",)),
    Entry("MinPruning", ("--preset=self_pruning_conv4", "--traintype=MinPruning")),
    Entry("FreeFlipping", ("--traintype=FreeFlipping", "--nettype=Conv4", "--masktype=flip",
                           "--initializer=heconstant", "--lr=0.0005", "--batchsize=25")),
    *(Entry(f"edge-popup k {k}", ("--preset=edge_popup_conv4_usc", f"--keep_ratio={k}"))
      for k in KEEP_RATIOS),
    Entry("Slot Machines K 2", ("--preset=slot_conv4_greedy", "--slots=2", SAME_IMAGES)),
    Entry("Slot Machines K 8", ("--preset=slot_conv4_greedy", "--slots=8", SAME_IMAGES)),
    Entry("LaPerm", ("--traintype=LaPerm", "--nettype=Conv4", "--shared_net")),
    # LaPerm's own lr (1e-3, made for its BN nets) collapses on this BN-free Conv4 in float32
    # and bfloat16 alike; 3e-4 is the Adam lr the originals train this Conv4 with (dense).
    Entry("LaPerm lr 3e-4", ("--traintype=LaPerm", "--nettype=Conv4", "--shared_net",
                             "--lr=0.0003")),
    Entry("supermask sampling", ("--preset=supermask_conv4_ukn",)),
    Entry("biprop k 0.5", ("--preset=biprop_conv4_kn",)),
    Entry("dense baseline", ("--preset=dense_conv4_adam",)),
), note="Slot Machines trains its own valid-padding Conv-4 (the original's); every other "
        "method the same-padding Conv4")

SUITES = {suite.name: suite for suite in (LENET, CONV4)}

"""The targets of the cross-check (``docs/crosscheck.md``): the runs each one needs (library
presets plus overrides) and how its numbers are judged. Tolerances and floors are the ones
docs/crosscheck.md states; the shortened ``--quick`` runs use lower floors of ours, marked "quick"
in the report, never the published tolerance.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping, Sequence

from experiments.crosscheck.checks import (
    Measure,
    Verdict,
    at_least,
    best_val_test,
    combine,
    final_test,
    mean_std,
    published_value,
    spread,
    verdict_of,
    within,
)

CPU, GPU, REFERENCE, STRUCTURE, CHECKPOINT = "cpu", "gpu", "reference", "structure", "checkpoint"


@dataclasses.dataclass(frozen=True)
class Run:
    """One configuration of a target, trained once per seed."""

    label: str
    flags: tuple[str, ...]  # a masktrainer command line, without seed and output folder
    measure: Measure = final_test


@dataclasses.dataclass(frozen=True)
class Measured:
    """A target's runs after training: per label, one value and one record per seed."""

    values: Mapping[str, Sequence[float]]
    changed: Mapping[str, Sequence[float | None]]  # fraction of connections changed

    def __getitem__(self, label: str) -> Sequence[float]:
        return self.values[label]


Judge = Callable[[Measured, bool], Verdict]


@dataclasses.dataclass(frozen=True)
class Target:
    id: str
    title: str
    kind: str
    published: tuple[str, ...] = ()  # source keys in published.json
    tolerance: str = ""
    runs: Callable[[bool], tuple[Run, ...]] = lambda quick: ()
    judge: Judge | None = None
    note: str = ""  # why a GPU/reference target is not run here


def _epochs(quick: bool, full: int, short: int) -> str:
    return f"--maxepochs={short if quick else full}"


# -- LaPerm on MNIST (C1-C3) ------------------------------------------------------------------

def _c1(m: Measured, quick: bool) -> Verdict:
    return verdict_of([within(m["F1"], published_value("P4-readme:F1"), 1.5, 1.0)], m["F1"], quick)


def _c2(m: Measured, quick: bool) -> Verdict:
    ok, text = within(m["F2"], published_value("P4-readme:F2"), 3.0, 2.0)
    verdict = verdict_of([(ok, text)], m["F2"], quick)
    if ok:
        return verdict
    # The authors' own F2.h5 scores 70.68 % (pretrained/README.md): their artefact does not
    # reach their number either. Only a result at the checkpoint's level is "not reproducible";
    # one below it is our own miss.
    own, mean = published_value("P4-pretrained:F2_file"), mean_std(m["F2"])[0]
    status = "not reproducible" if abs(mean - own) <= 3.0 else "fail"
    return dataclasses.replace(verdict, status=status, reason=verdict.reason +
                               f"; the authors' released F2.h5 itself scores {own} % (R2)" +
                               ("" if status != "fail" else ", and ours is below that too "
                                "(experiments/findings/laperm_checkpoints.md)"))


def _c3(m: Measured, quick: bool) -> Verdict:
    floor = 98.5 if quick else 99.3
    return verdict_of([at_least(m["Conv7"], floor)], m["Conv7"], quick)


# -- Slot Machines LeNet (C4-C6) --------------------------------------------------------------

# The Slot Machines presets evaluate validation and test (test read at the best-validation
# epoch, as the paper); the flag stays explicit for run directories of earlier versions.
SLOT = ("--preset=slot_lenet_greedy", "--eval_sets=val,test")
EVAL_TEST = "--eval_sets=val,test"


def _c4(m: Measured, quick: bool) -> Verdict:
    return verdict_of([at_least(m["K2 greedy"], 96.0 if quick else 96.3)], m["K2 greedy"], quick)


def _c5(m: Measured, quick: bool) -> Verdict:
    k8, k2 = mean_std(m["K8 greedy"])[0], mean_std(m["K2 greedy"])[0]
    gap = (k8 - k2 >= 0.5, f"K=8 − K=2 = {k8 - k2:+.2f} pp (≥ 0.5)")
    return verdict_of([at_least(m["K8 greedy"], 97.0 if quick else 97.6), gap], m["K8 greedy"],
                    quick)


def _c6(m: Measured, quick: bool) -> Verdict:
    gs, ps = mean_std(m["K8 greedy"])[0], mean_std(m["K8 probabilistic"])[0]
    learned = mean_std(m["learned"])[0]
    parts = [(gs >= ps, f"GS − PS = {gs - ps:+.2f} pp (≥ 0)"),
             (gs >= learned - 0.7, f"GS − learned = {gs - learned:+.2f} pp (≥ −0.7)")]
    verdict = verdict_of(parts, m["K8 greedy"], quick)
    return dataclasses.replace(verdict, ours=f"GS {spread(m['K8 greedy'])}, PS "
                               f"{spread(m['K8 probabilistic'])}, learned {spread(m['learned'])}")


# -- self-pruning and sign flipping (C7-C10) ---------------------------------------------------

LENET_SP = ("--nettype=LeNet", "--lr=0.001", "--batchsize=25")


def _c7(m: Measured, quick: bool) -> Verdict:
    ours, base = m["MinFlipping"], mean_std(m["Baseline heconstant"])[0]
    flipped = [100 * c for c in m.changed["MinFlipping"] if c is not None]
    limit = published_value("P1-abs:changed")  # percent of the weights
    kept = published_value("P1-abs:of_baseline") / 100  # of the Baseline's accuracy
    parts = [(bool(flipped) and max(flipped) < limit,
              f"flipped {max(flipped):.2f} % (< {limit:g} %)" if flipped
              else "flipped fraction missing"),
             (min(ours) >= kept * base, f"{min(ours):.2f} % vs {kept:g} × Baseline {base:.2f} %")]
    verdict = verdict_of(parts, ours, quick)
    # A run without the flipped fraction fails above; it must not crash the report here.
    shown = spread(flipped, " %") if flipped else "missing"
    return dataclasses.replace(verdict, ours=f"{spread(ours)}, flipped {shown}, "
                               f"Baseline {spread(m['Baseline heconstant'])}")


def _versus_baseline(pairs: Sequence[tuple[str, str]], margin: float) -> Judge:
    def judge(m: Measured, quick: bool) -> Verdict:
        parts, shown = [], []
        for method, baseline in pairs:
            ours, base = mean_std(m[method])[0], mean_std(m[baseline])[0]
            parts.append((ours >= base - margin,
                          f"{method} − {baseline} = {ours - base:+.2f} pp (≥ −{margin})"))
            kept = [100 * c for c in m.changed[method] if c is not None]
            changed = f", changed {spread(kept, ' %')}" if kept else ""
            shown.append(f"{method} {spread(m[method])}{changed}; {baseline} {spread(m[baseline])}")
        verdict = verdict_of(parts, m[pairs[0][0]], quick)
        return dataclasses.replace(verdict, ours=" | ".join(shown))
    return judge


def _c10(m: Measured, quick: bool) -> Verdict:
    verdict = _versus_baseline([("FreePruning", "Baseline")], 1.0)(m, quick)
    if quick:
        return verdict
    floors = [at_least(m[label], 55.0, label) for label in ("FreePruning", "Baseline")]
    status, reason = combine(floors)
    if status == "pass":
        return verdict
    return dataclasses.replace(verdict, status="fail", reason=verdict.reason + "; " + reason)


# -- edge-popup and supermask sampling --------------------------------------------------------

def _c11(m: Measured, quick: bool) -> Verdict:
    verdict = verdict_of([at_least(m["k 0.5"], 40.0 if quick else 60.0)], m["k 0.5"], quick)
    if verdict.status == "pass" or quick:
        return verdict
    return dataclasses.replace(verdict, reason=verdict.reason + "; the original trained on the "
                               "same images scores the same (36.80 vs 36.74 %, "
                               "experiments/findings/edge_popup_conv2_cifar.md)")


def _s1(m: Measured, quick: bool) -> Verdict:
    return verdict_of([at_least(m["sampling"], 96.0)], m["sampling"], quick,
                    f"sanity floor only (the {published_value('P2-koster:supermask_FCN')} % is "
                    "quoted by a third party); ")


TARGETS: tuple[Target, ...] = (
    Target("C1", "LaPerm F1, weight-agnostic linear net, MNIST", CPU, ("P4-readme:F1",),
           "±1.5 pp per seed, 3-seed mean ±1.0 pp",
           lambda quick: (Run("F1", ("--preset=laperm_f1",), best_val_test),), _c1),
    Target("C2", "LaPerm F2, MNIST", CPU, ("P4-readme:F2",), "±3 pp per seed, 3-seed mean ±2 pp",
           lambda quick: (Run("F2", ("--preset=laperm_f2",), best_val_test),), _c2),
    Target("C3", "LaPerm Conv7, MNIST (shortened), k = 20", CPU, ("P4-readme:Conv7",),
           "floor 99.3 % after 8 epochs (quick: 98.5 % after 1)",
           lambda quick: (Run("Conv7", ("--preset=laperm_conv7", _epochs(quick, 8, 1)),
                              best_val_test),), _c3),
    Target("C4", "Slot Machines LeNet, K = 2, greedy, MNIST", CPU, ("P3-k117:LeNet_K2",),
           "floor 96.3 % after 25 epochs (quick: 96.0 % after 10)",
           lambda quick: (Run("K2 greedy", (*SLOT, "--slots=2", _epochs(quick, 25, 10)),
                              best_val_test),), _c4),
    Target("C5", "Slot Machines LeNet, K = 8, greedy, MNIST", CPU, ("P3-icml:LeNet_K8",),
           "floor 97.6 % after 25 epochs (quick: 97.0 % after 10); K=8 ≥ K=2 + 0.5 pp",
           lambda quick: (Run("K8 greedy", (*SLOT, _epochs(quick, 25, 10)), best_val_test),
                          Run("K2 greedy", (*SLOT, "--slots=2", _epochs(quick, 25, 10)),
                              best_val_test)), _c5),
    Target("C6", "Slot Machines LeNet: greedy vs probabilistic vs learned, K = 8", CPU, (),
           "orderings only: GS ≥ PS; GS ≥ learned − 0.7 pp (same epochs)",
           lambda quick: (
               Run("K8 greedy", (*SLOT, _epochs(quick, 25, 10)), best_val_test),
               Run("K8 probabilistic", ("--preset=slot_lenet_prob", EVAL_TEST,
                                        _epochs(quick, 25, 10)), best_val_test),
               Run("learned", ("--preset=slot_lenet_learned", EVAL_TEST,
                               _epochs(quick, 25, 10)), best_val_test)), _c6),
    Target("C7", "Sign flipping LeNet, MinFlipping, signed He constant", CPU,
           ("P1-abs:changed", "P1-abs:of_baseline"),
           "flipped < 10 % and accuracy ≥ 0.9 × Baseline",
           lambda quick: (
               Run("MinFlipping", ("--preset=self_pruning_lenet_minflipping",
                                   _epochs(quick, 10, 3))),
               Run("Baseline heconstant", ("--traintype=Baseline", *LENET_SP,
                                           "--initializer=heconstant", _epochs(quick, 10, 3)))),
           _c7),
    Target("C8", "Self-pruning LeNet, FreePruning vs Baseline (He normal, signed He constant)",
           CPU, (), "FreePruning ≥ Baseline − 0.5 pp per initialiser",
           lambda quick: (
               Run("FreePruning he", ("--preset=self_pruning_lenet", _epochs(quick, 10, 3))),
               Run("Baseline he", ("--traintype=Baseline", *LENET_SP, "--initializer=he",
                                   _epochs(quick, 10, 3))),
               Run("FreePruning heconstant", ("--preset=self_pruning_lenet",
                                              "--initializer=heconstant", _epochs(quick, 10, 3))),
               Run("Baseline heconstant", ("--traintype=Baseline", *LENET_SP,
                                           "--initializer=heconstant", _epochs(quick, 10, 3)))),
           _versus_baseline([("FreePruning he", "Baseline he"),
                             ("FreePruning heconstant", "Baseline heconstant")], 0.5)),
    Target("C9", "Sign flipping LeNet, FreeFlipping vs Baseline (signed He constant)", CPU, (),
           "FreeFlipping ≥ Baseline − 0.5 pp",
           lambda quick: (
               Run("FreeFlipping", ("--traintype=FreeFlipping", *LENET_SP, "--masktype=flip",
                                    "--initializer=heconstant", _epochs(quick, 10, 3))),
               Run("Baseline heconstant", ("--traintype=Baseline", *LENET_SP,
                                           "--initializer=heconstant", _epochs(quick, 10, 3)))),
           _versus_baseline([("FreeFlipping", "Baseline heconstant")], 0.5)),
    Target("C10", "Self-pruning Conv2, FreePruning vs Baseline, CIFAR-10 (shortened)", CPU, (),
           "FreePruning ≥ Baseline − 1 pp; both ≥ 55 % after 4 epochs (quick: 1 epoch, "
           "ordering only)",
           lambda quick: (
               Run("FreePruning", ("--preset=self_pruning_conv2", _epochs(quick, 4, 1))),
               Run("Baseline", ("--traintype=Baseline", "--nettype=Conv2", "--initializer=he",
                                "--lr=0.0002", "--batchsize=25", _epochs(quick, 4, 1)))), _c10),
    Target("C11", "edge-popup Conv2, CIFAR-10, signed constant, k = 0.5 (shortened)", CPU,
           ("P2-notes:Conv2_best_k",), "floor 60 % after 4 epochs (quick: 40 % after 1)",
           lambda quick: (Run("k 0.5", ("--preset=edge_popup_conv2_usc",
                                        _epochs(quick, 4, 1))),), _c11),
    Target("C12", "Exact structure and initialiser checks (no training)", STRUCTURE,
           ("P2-koster:params_LeNet", "P2-koster:params_Conv2", "P2-koster:params_Conv4",
            "P2-koster:params_Conv6", "P2-cfg:params_Conv8", "P3-code:params_SlotConv2",
            "P3-code:params_SlotConv4", "P3-code:params_SlotConv6", "P3-code:params_VGG19"),
           "exact counts; initialiser std within 1 %; kept count exact"),
    Target("S1", "Supermask sampling LeNet, MNIST (sanity)", CPU, ("P2-koster:supermask_FCN",),
           "floor 96 % after 5 epochs (the published 98.0 % is a third-party quote)",
           lambda quick: (Run("sampling", ("--traintype=SupermaskSampling", "--nettype=LeNet",
                                           "--lr=200", "--maxepochs=5")),), _s1),
    Target("G6", "edge-popup ImageNet ResNet-50, k = 30 %, signed constant", REFERENCE,
           ("P2-readme:ResNet50_usc",), "reference only",
           note="reference only: out of reach of this project's device budget and data"),
)

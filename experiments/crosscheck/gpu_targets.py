"""Targets G1-G5 of the cross-check (docs/crosscheck.md): the full published schedules, for a
GPU (``--full``). Each run is a preset at its full recipe; with ``--stop_after`` a cross-check
trains for that many minutes, checkpoints and stops, and the next invocation resumes it, so
every command fits a time-limited device session."""

from __future__ import annotations

import dataclasses

from experiments.crosscheck.checks import (
    Verdict,
    best_val_test,
    mean_std,
    published_value,
    spread,
    verdict_of,
    within,
)
from experiments.crosscheck.targets import (
    EVAL_TEST,
    GPU,
    Measured,
    Run,
    Target,
)


def _g1(m: Measured, quick: bool) -> Verdict:
    parts = [within(m["Conv4"], published_value("P4-readme:Conv4"), 0.7),
             within(m["Conv2"], published_value("P4-readme:Conv2"), 0.7)]
    verdict = verdict_of(parts, m["Conv4"], quick)
    return dataclasses.replace(verdict, ours=f"Conv4 {spread(m['Conv4'])}, Conv2 {spread(m['Conv2'])}")


def _g2(m: Measured, quick: bool) -> Verdict:
    means = [mean_std(m[label])[0] for label in ("p0", "p70")]
    parts = [within(m["p0"], published_value("P4-readme:ResNet50"), 0.7),
             within(m["p70"], published_value("P4-readme:ResNet50_p70"), 0.7),
             (means[0] + 0.3 >= means[1], f"p0 − p70 = {means[0] - means[1]:+.2f} pp (≥ −0.3)")]
    verdict = verdict_of(parts, m["p0"], quick)
    return dataclasses.replace(verdict, ours=f"p0 {spread(m['p0'])}, p70 {spread(m['p70'])}")


def _g3(m: Measured, quick: bool) -> Verdict:
    conv6, learned = mean_std(m["Conv6 K8"])[0], mean_std(m["Conv6 learned"])[0]
    parts = [within(m["VGG19 K8"], published_value("P3-icml:VGG19_K8"), 1.0),
             (conv6 >= learned - 0.3, f"Conv6 slots − learned = {conv6 - learned:+.2f} pp (≥ −0.3)")]
    verdict = verdict_of(parts, m["VGG19 K8"], quick)
    return dataclasses.replace(verdict, ours=f"VGG19 {spread(m['VGG19 K8'])}, Conv6 "
                               f"{spread(m['Conv6 K8'])}, learned {spread(m['Conv6 learned'])}")


def _g4(m: Measured, quick: bool) -> Verdict:
    sc, kn = mean_std(m["Conv4 usc"])[0], mean_std(m["Conv4 ukn"])[0]
    parts = [within(m["Conv4 usc"], published_value("P2-notes:Conv4_usc"), 1.5),
             within(m["Conv6 usc"], published_value("P2-notes:Conv6_usc"), 1.5),
             (sc > kn, f"Conv4 signed constant − Kaiming normal = {sc - kn:+.2f} pp (> 0)")]
    verdict = verdict_of(parts, m["Conv4 usc"], quick)
    return dataclasses.replace(verdict, ours=f"Conv4 {spread(m['Conv4 usc'])}, Conv6 "
                               f"{spread(m['Conv6 usc'])}, Conv4 ukn {spread(m['Conv4 ukn'])}")


GPU_TARGETS = (
    Target("G1", "LaPerm Conv4 and Conv2, CIFAR-10 (notebook recipe, raw pixels)", GPU,
           ("P4-readme:Conv4", "P4-readme:Conv2"), "±0.7 pp",
           lambda quick: (Run("Conv4", ("--preset=laperm_conv4",), best_val_test),
                          Run("Conv2", ("--preset=laperm_conv2",), best_val_test)), _g1),
    Target("G2", "LaPerm CIFAR ResNet-50, dense and 70 % randomly pruned", GPU,
           ("P4-readme:ResNet50", "P4-readme:ResNet50_p70"), "±0.7 pp; p0 ≥ p70 − 0.3 pp",
           lambda quick: (Run("p0", ("--preset=laperm_resnet50",), best_val_test),
                          Run("p70", ("--preset=laperm_resnet50_p70",), best_val_test)), _g2),
    Target("G3", "Slot Machines VGG-19 and Conv-6, K = 8, greedy, CIFAR-10", GPU,
           ("P3-icml:VGG19_K8",), "VGG-19 ±1 pp; Conv-6 ≥ its learned counterpart − 0.3 pp",
           lambda quick: (
               Run("VGG19 K8", ("--preset=slot_vgg19_greedy", EVAL_TEST), best_val_test),
               Run("Conv6 K8", ("--preset=slot_conv6_greedy", EVAL_TEST), best_val_test),
               Run("Conv6 learned", ("--preset=slot_conv6_learned", EVAL_TEST), best_val_test)),
           _g3),
    Target("G4", "edge-popup Conv4 / Conv6, signed constant, k = 0.5, CIFAR-10", GPU,
           ("P2-notes:Conv4_usc", "P2-notes:Conv6_usc"),
           "±1.5 pp (figure-read); signed constant > Kaiming normal",
           lambda quick: (Run("Conv4 usc", ("--preset=edge_popup_conv4_usc",)),
                          Run("Conv6 usc", ("--preset=edge_popup_conv6_usc",)),
                          Run("Conv4 ukn", ("--preset=edge_popup_conv4_ukn",))), _g4),
    Target("G5", "Self-pruning Conv6, CIFAR-10, five methods × three initialisers", GPU, (),
           "Free* ≥ Baseline − 1 pp; Min* < 10 % changed and ≥ 0.9 × Baseline",
           note="not built yet: 15 runs of 100 epochs; run the self_pruning_conv6 preset "
                "per method and initialiser"),
)

"""Target C12 (experiments.crosscheck.structure): exact kernel counts, the signed He constant
and edge-popup's kept count, without training."""

from __future__ import annotations

import pytest

from experiments.crosscheck import checks, structure
from experiments.crosscheck.catalogue import by_id

SMALL = {key: value for key, value in structure.COUNTED.items()
         if value[0] in ("LeNet", "Conv2")}  # the large networks are counted by the target


def test_every_counted_network_cites_the_targets_published_numbers():
    assert set(structure.COUNTED) == set(by_id()["C12"].published)
    assert set(structure.COUNTED) <= set(checks.published())


def test_the_counts_match_the_published_ones(monkeypatch):
    monkeypatch.setattr(structure, "COUNTED", SMALL)
    parts = structure._counts(checks.published())
    assert parts == [(True, "LeNet 266,200 vs 266,200"), (True, "Conv2 4,300,992 vs 4,300,992")]


def test_the_initialiser_and_kept_checks_hold():
    assert [ok for ok, _ in structure._initialiser()] == [True, True, True]
    kept = structure._kept()
    assert all(ok for ok, _ in kept) and len(kept) == 3
    assert kept[0][1] == "kept 133,100 of 266,200 at k 0.5 (n − int((1−k)·n) = 133,100)"


@pytest.fixture()
def quick_structure(monkeypatch):
    monkeypatch.setattr(structure, "COUNTED", SMALL)
    monkeypatch.setattr(structure, "_initialiser", lambda: [(True, "init ok")])
    monkeypatch.setattr(structure, "_kept", lambda: [(True, "kept ok")])


def test_the_verdict_passes_when_every_check_is_exact(quick_structure):
    verdict = structure.structure_verdict(checks.published())
    assert verdict.status == "pass" and verdict.ours == "4/4 checks exact"
    assert verdict.reason.endswith("; init ok; kept ok")


def test_a_wrong_count_fails_and_is_named(quick_structure):
    published = {**checks.published(), "P2-koster:params_LeNet": {"value": 266201}}
    verdict = structure.structure_verdict(published)
    assert verdict.status == "fail" and verdict.ours == "3/4 checks exact"
    assert verdict.reason == "FAILS: LeNet 266,200 vs 266,201"

"""experiments.crosscheck.catalogue: every target cites published numbers that exist."""

from experiments.crosscheck import checks
from experiments.crosscheck.catalogue import by_id, default_ids


def test_every_target_cites_published_numbers_that_exist():
    numbers = checks.published()
    targets = by_id()
    assert {"C1", "C11", "C12", "S1", "G1", "G6", "R1", "R7"} <= set(targets)
    for target in targets.values():
        assert all(key in numbers for key in target.published), target.id
        assert target.tolerance, target.id
    assert all(isinstance(entry["value"], (int, float)) for entry in numbers.values())
    cpu = default_ids(full=False)
    assert "G1" not in cpu and "G6" not in cpu and {"C1", "C12", "R2"} <= set(cpu)
    assert "G1" in default_ids(full=True)

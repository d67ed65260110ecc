"""The format's facts (masktrainer.layout.names): the file table, the series and key sets, and
filling in a run's precision."""

from __future__ import annotations

from masktrainer.layout import names


def test_every_file_is_described_once_and_the_table_lists_them():
    files = [name for name, _ in names.RUN_FILES]
    assert len(files) == len(set(files))
    table = names.run_files_table()
    assert table.splitlines()[:2] == ["| file | content |", "|---|---|"]
    assert all(f"| `{name}` |" in table for name in files)
    for key in (*names.CORE_SERIES, names.EPOCH_SECONDS, names.PER_LAYER_KEY,
                *names.RESUMABLE_STATUSES, names.COMPLETE):
        assert f"`{key}`" in table, key


def test_the_table_has_one_row_per_file_and_escapes_pipes_in_cells():
    rows = names.run_files_table().splitlines()[2:]
    assert len(rows) == len(names.RUN_FILES)
    assert names.run_files_table().endswith("\n")
    for row, (name, content) in zip(rows, names.RUN_FILES):
        assert row == f"| `{name}` | {content.replace('|', chr(92) + '|')} |"
        # Only the row's own three separators stay unescaped: the table keeps two columns.
        assert row.replace("\\|", "").count("|") == 3


def test_series_and_keys_are_consistent():
    assert names.KNOWN_SERIES[:len(names.CORE_SERIES)] == names.CORE_SERIES
    assert {names.REMAINING_KEY, names.EPOCH_SECONDS} <= set(names.KNOWN_SERIES)
    assert not set(names.KNOWN_SERIES) & names.METADATA_KEYS
    assert set(names.NOT_SERIES) <= names.METADATA_KEYS
    assert names.COMPLETE not in names.RESUMABLE_STATUSES
    assert set(names.RESUMABLE_STATUSES) == {names.RUNNING, names.INTERRUPTED, names.DIVERGED}
    assert not set(names.BOOKKEEPING_KEYS) & set(names.SETTING_KEYS)
    assert names.RESUME_FILE not in [name for name, _ in names.RUN_FILES]  # it is inside
    assert f"{names.CHECKPOINT_FOLDER}/" in [name for name, _ in names.RUN_FILES]


def test_with_precision_fills_in_the_precision_old_runs_ran_at():
    assert names.with_precision({"seed": 1}) == {"seed": 1, "precision": "float32"}
    assert names.with_precision({"mixed_precision": False})["precision"] == "float32"
    assert names.with_precision({"mixed_precision": True}) == {
        "mixed_precision": True, "precision": "mixed_float16"}


def test_with_precision_keeps_a_given_precision_and_the_config_itself():
    config = {"precision": "bfloat16", "mixed_precision": True}
    assert names.with_precision(config) is config
    old = {"mixed_precision": True}
    names.with_precision(old)
    assert old == {"mixed_precision": True}  # a new dict; the caller's is untouched

"""Generic plumbing a new task relies on: CLI flags from data configs, dataset files it adds."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from rnn_core.data import files


def test_every_data_config_field_gets_a_cli_flag() -> None:
    from rnn_core.cli import build_parser, spec_from_args

    args = build_parser().parse_args(["train", "--task", "addition", "--val-fraction", "0.25"])
    assert spec_from_args(args).data.val_fraction == 0.25
    args = build_parser().parse_args(["train", "--task", "addition", "--test-size", "7"])
    assert spec_from_args(args).data.test_size == 7


@pytest.fixture
def extra_source(monkeypatch: pytest.MonkeyPatch) -> str:
    """A zipped dataset file added as a task would add it (removed again afterwards)."""
    monkeypatch.setattr(files, "_SOURCES", dict(files._SOURCES))
    monkeypatch.setattr(files, "_ARCHIVES", set(files._ARCHIVES))
    files.add_source("extra.csv", "https://example.invalid/extra.csv.zip", zipped=True)
    return "extra.csv"


def test_an_added_file_is_reported_and_fetched_from_its_zip(
    extra_source: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keras

    assert extra_source in files.source_names()
    assert files.data_status(tmp_path)[extra_source] is False

    def fake_get_file(fname: str, origin: str, extract: bool = False, **kwargs: object) -> str:
        cache = tmp_path / "cache"
        cache.mkdir(exist_ok=True)
        if not extract:
            (cache / fname).write_text(origin)
            return str(cache / fname)
        assert origin.endswith(fname) and fname.endswith(".zip")
        inner = fname.removesuffix(".zip")
        with zipfile.ZipFile(cache / fname, "w") as z:
            z.writestr(f"inner/{inner}", f"from {origin}\n")
        with zipfile.ZipFile(cache / fname) as z:
            z.extractall(cache / f"{inner}_extracted")
        return str(cache / f"{inner}_extracted")

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    done = files.fetch_all(tmp_path / "class")
    text = (tmp_path / "class" / extra_source).read_text()
    assert text == "from https://example.invalid/extra.csv.zip\n"
    assert len(done) == len(files.source_names())
    assert files.data_status(tmp_path / "class")[extra_source] is True

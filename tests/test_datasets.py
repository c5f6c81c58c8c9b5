"""Tests for rnn_core.data.loaders: equivalence with Keras's own loaders, error paths, real data."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from rnn_core.data import files
from rnn_core.data import loaders as ds
from tests.skip_policy import needs_shared

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
FIX = "python -m rnn_core fetch"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No env data dir, and a private empty Keras cache, for every test."""
    monkeypatch.delenv(ds.ENV_VAR, raising=False)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))


@pytest.fixture
def keras(monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Keras with its downloader disabled, so no test can ever touch the network."""
    import keras
    from keras.src.utils import file_utils

    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network disabled in tests")

    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    return keras


def _ragged(rng: np.random.Generator, n: int, max_rank: int) -> np.ndarray:
    arr = np.empty(n, dtype=object)
    for i in range(n):
        arr[i] = [int(v) for v in rng.integers(1, max_rank + 1, size=int(rng.integers(1, 60)))]
    return arr


def write_tiny_imdb(path: Path, seed: int = 0, n: int = 20, max_rank: int = 300) -> Path:
    """Write a Keras-format imdb.npz: object arrays of raw-rank int lists, sorted pos-then-neg."""
    rng = np.random.default_rng(seed)
    x_train, x_test = _ragged(rng, n, max_rank), _ragged(rng, n, max_rank)
    x_train[3] = []  # an empty review: Keras keeps it as [start_char]
    labels = np.array([1] * (n // 2) + [0] * (n - n // 2), dtype=np.int64)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, x_train=x_train, y_train=labels, x_test=x_test, y_test=labels.copy())
    return path


def write_tiny_mnist(path: Path, seed: int = 0) -> Path:
    """Write a Keras-format mnist.npz with a few random uint8 images."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        path,
        x_train=rng.integers(0, 256, size=(12, 28, 28), dtype=np.uint8),
        y_train=rng.integers(0, 10, size=12, dtype=np.uint8),
        x_test=rng.integers(0, 256, size=(5, 28, 28), dtype=np.uint8),
        y_test=rng.integers(0, 10, size=5, dtype=np.uint8),
    )
    return path


def keras_imdb(keras, monkeypatch: pytest.MonkeyPatch, path: Path, **kw: object):  # noqa: ANN201
    """Keras's own imdb.load_data on `path` (its get_file redirected to the tiny file)."""
    from keras.src.datasets import imdb as kimdb

    monkeypatch.setattr(kimdb, "get_file", lambda *a, **k: str(path))
    return keras.datasets.imdb.load_data(**kw)


def assert_same_imdb(ours, ref) -> None:  # noqa: ANN001
    for (x, y), (rx, ry) in zip(ours, ref, strict=True):
        assert x.shape == rx.shape and x.dtype == rx.dtype == object
        assert [list(s) for s in x] == [list(s) for s in rx]
        assert all(type(s) is list for s in x) and all(type(v) is int for s in x for v in s)
        assert y.dtype == ry.dtype and np.array_equal(y, ry)


IMDB_COMBOS = [
    dict(num_words=None),
    dict(num_words=50),
    dict(num_words=100, skip_top=5),
    dict(num_words=200, maxlen=30),
    dict(num_words=None, maxlen=40, seed=5),
    dict(num_words=80, skip_top=10, oov_char=None),
    dict(num_words=250, start_char=None, index_from=0, seed=7),
    dict(num_words=150, start_char=None, index_from=2, maxlen=25),
    dict(num_words=120, seed=1, start_char=5, oov_char=4, index_from=5),
]


@pytest.mark.parametrize(
    "kw", IMDB_COMBOS, ids=lambda kw: ",".join(f"{k}={v}" for k, v in kw.items())
)
def test_load_imdb_matches_keras(keras, monkeypatch, tmp_path, kw) -> None:
    path = write_tiny_imdb(tmp_path / "data" / "imdb.npz")
    ours = ds.load_imdb(data_dir=tmp_path / "data", **kw)
    assert_same_imdb(ours, keras_imdb(keras, monkeypatch, path, **kw))


def test_load_imdb_env_var_and_online_path(keras, monkeypatch, tmp_path) -> None:
    path = write_tiny_imdb(tmp_path / "elsewhere" / "imdb.npz", seed=3)
    ref = keras_imdb(keras, monkeypatch, path, num_words=100)
    # Online path: no data dir and an empty cache -> Keras's loader (get_file redirected).
    assert_same_imdb(ds.load_imdb(num_words=100), ref)
    monkeypatch.setenv(ds.ENV_VAR, str(path.parent))
    monkeypatch.setattr(keras.datasets.imdb, "load_data", _fail_if_called)
    assert_same_imdb(ds.load_imdb(num_words=100), ref)


def _fail_if_called(*args: object, **kwargs: object) -> None:
    raise AssertionError("Keras loader must not be called when a local file exists")


def test_load_imdb_reads_keras_cache_directly(keras, monkeypatch, tmp_path) -> None:
    cached = write_tiny_imdb(tmp_path / "keras_home" / "datasets" / "imdb.npz")
    ref = keras_imdb(keras, monkeypatch, cached, num_words=60)
    monkeypatch.setattr(keras.datasets.imdb, "load_data", _fail_if_called)
    assert_same_imdb(ds.load_imdb(num_words=60), ref)
    assert cached.is_file()  # never handed to Keras, which deletes hash-mismatched files


def test_load_imdb_maxlen_too_small_is_value_error(tmp_path) -> None:
    write_tiny_imdb(tmp_path / "imdb.npz")
    with pytest.raises(ValueError, match="maxlen"):
        ds.load_imdb(maxlen=1, data_dir=tmp_path)


@pytest.mark.parametrize(
    "exc",
    [
        OSError("network disabled"),
        Exception("URL fetch failure on https://x/imdb.npz: None -- [Errno -3]"),
        urllib.error.URLError("no route"),
    ],
)
def test_missing_data_raises_data_missing_error(keras, monkeypatch, tmp_path, exc) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(keras.datasets.imdb, "load_data", boom)
    monkeypatch.setattr(keras.datasets.imdb, "get_word_index", boom)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", boom)
    monkeypatch.setattr(keras.utils, "get_file", boom)
    calls = [
        ("imdb.npz", ds.load_imdb),
        ("imdb_word_index.json", ds.get_word_index),
        ("mnist.npz", ds.load_mnist),
        ("nietzsche.txt", ds.load_nietzsche),
    ]
    for name, fn in calls:
        for data_dir in (None, tmp_path / "empty"):
            with pytest.raises(ds.DataMissingError) as info:
                fn(data_dir=data_dir)
            msg = str(info.value)
            assert isinstance(info.value, RuntimeError)
            assert name in msg and FIX in msg and ds.ENV_VAR in msg and "--data-dir" in msg
            assert info.value.filename == name


def test_unreadable_file_in_data_dir_is_reported(tmp_path) -> None:
    (tmp_path / "imdb.npz").write_bytes(b"not a zip")
    with pytest.raises(ds.DataMissingError, match="unreadable"):
        ds.load_imdb(data_dir=tmp_path)


def test_unsafe_pickle_is_refused(tmp_path) -> None:
    evil = np.empty(1, dtype=object)
    evil[0] = Path("x")  # any non-numpy global must be refused by the restricted unpickler
    np.savez(tmp_path / "imdb.npz", x_train=evil, y_train=np.zeros(1), x_test=evil, y_test=[0])
    with pytest.raises(ds.DataMissingError, match="unreadable"):
        ds.load_imdb(data_dir=tmp_path)


def test_load_mnist_matches_keras(keras, monkeypatch, tmp_path) -> None:
    from keras.src.datasets import mnist as kmnist

    path = write_tiny_mnist(tmp_path / "mnist.npz")
    monkeypatch.setattr(kmnist, "get_file", lambda *a, **k: str(path))
    (rx, ry), (rxt, ryt) = keras.datasets.mnist.load_data()
    (x, y), (xt, yt) = ds.load_mnist(data_dir=tmp_path, normalize=False)
    for a, b in ((x, rx), (y, ry), (xt, rxt), (yt, ryt)):
        assert a.dtype == b.dtype and np.array_equal(a, b)
    (x, y), (xt, yt) = ds.load_mnist(data_dir=tmp_path)
    assert x.dtype == np.float32 and x.shape == (12, 28, 28) and y.dtype == np.int64
    assert x.min() >= 0.0 and x.max() <= 1.0
    np.testing.assert_array_equal(x, rx.astype(np.float32) / np.float32(255))
    np.testing.assert_array_equal(yt, ryt)
    (x2, _), _ = ds.load_mnist()  # online path via the (redirected) Keras loader
    np.testing.assert_array_equal(x2, x)


def test_load_nietzsche_and_word_index(keras, monkeypatch, tmp_path) -> None:
    text = "PREFACE\n\nSUPPOSING that Truth is a woman--what then? Ä é\n"
    (tmp_path / "nietzsche.txt").write_text(text, encoding="utf-8")
    (tmp_path / "imdb_word_index.json").write_text(json.dumps({"the": 1, "and": 2}))
    assert ds.load_nietzsche(tmp_path) == text
    assert ds.get_word_index(tmp_path) == {"the": 1, "and": 2}
    seen = {}

    def fake_get_file(fname: str, origin: str, **kwargs: object) -> str:
        seen[fname] = origin
        return str(tmp_path / fname)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    assert ds.load_nietzsche() == text
    assert seen == {"nietzsche.txt": ds.NIETZSCHE_URL}


def test_tokenizer_matches_keras_text_to_word_sequence(keras) -> None:
    from keras.src.legacy.preprocessing.text import text_to_word_sequence

    samples = [
        "This film was just brilliant!",
        "I didn't like it.<br /><br />At ALL...\tReally?\nNo--never  (ever)",
        "  multiple   spaces, 'quotes' and \"doubles\"; Café naïve 10/10 @home #1 ~end~ ",
        "",
    ]
    for text in samples:
        assert ds.tokenize(text) == text_to_word_sequence(text)


def test_encode_and_decode_review() -> None:
    index = {"the": 1, "film": 2, "was": 3, "great": 4}
    ids, unknown = ds.encode_review("The film, was GREAT!! xyz the", index, num_words=10)
    assert ids == [1, 4, 5, 6, 7, 2, 4] and unknown == ["xyz"]
    ids, unknown = ds.encode_review("great xyz great", index, num_words=7)
    assert ids == [1, 2, 2, 2] and unknown == ["great", "xyz"]
    assert ds.encode_review("great", index, num_words=None)[0] == [1, 7]
    decoded = ds.decode_review([0, 0, 1, 4, 5, 2, 3, 7, 99], index)
    assert decoded == "<START> the film <OOV> <UNK> great <UNK>"


def test_pad_matches_keras_pad_sequences(keras) -> None:
    rng = np.random.default_rng(1)
    seqs = [list(rng.integers(1, 50, size=int(k))) for k in rng.integers(0, 30, size=25)]
    seqs[0] = []
    for maxlen in (None, 1, 7, 40):
        for padding in ("pre", "post"):
            for truncating in ("pre", "post"):
                for value in (0, -1):
                    kw = dict(padding=padding, truncating=truncating, value=value)
                    ref = keras.utils.pad_sequences(seqs, maxlen=maxlen, **kw)
                    ours = ds.pad(seqs, maxlen, **kw)
                    assert ours.dtype == np.int32 == ref.dtype
                    np.testing.assert_array_equal(ours, ref)
    with pytest.raises(ValueError):
        ds.pad(seqs, 5, padding="middle")


def test_truncation_report() -> None:
    seq = list(range(1, 11))
    rep = ds.truncation_report(seq, 4, "pre")
    assert (rep.n_cut, rep.n_pad, rep.kept_start, rep.kept_end) == (6, 0, 6, 10)
    assert list(ds.pad([seq], 4)[0]) == seq[rep.kept_start : rep.kept_end]
    assert "6 of 10" in rep.summary and "last 4" in rep.summary
    rep = ds.truncation_report(seq, 4, "post")
    assert (rep.kept_start, rep.kept_end) == (0, 4) and "first 4" in rep.summary
    assert list(ds.pad([seq], 4, truncating="post")[0]) == seq[:4]
    rep = ds.truncation_report(seq, 15)
    assert (rep.n_cut, rep.n_pad, rep.kept_start, rep.kept_end) == (0, 5, 0, 10)


def test_fetch_all_uses_keras_origins_and_copies_files(keras, monkeypatch, tmp_path) -> None:
    from keras.src.datasets import imdb as kimdb
    from keras.src.datasets import mnist as kmnist

    keras_args: dict[str, tuple] = {}

    def record(fname: str, origin: str, file_hash: str | None = None, **kw: object) -> str:
        keras_args[fname] = (origin, file_hash)
        raise OSError("stop after recording")

    for mod in (kimdb, kmnist):
        monkeypatch.setattr(mod, "get_file", record)
    for call in (kimdb.load_data, kimdb.get_word_index, kmnist.load_data):
        with pytest.raises(OSError):
            call()
    keras_args["nietzsche.txt"] = (ds.NIETZSCHE_URL, None)

    src_dir = tmp_path / "downloads"
    src_dir.mkdir()
    fetched = {}

    def fake_get_file(
        fname: str, origin: str, file_hash: str | None = None, extract: bool = False, **kw: object
    ) -> str:
        fetched[fname] = (origin, file_hash)
        name = fname.removesuffix(".zip")  # a zip is "extracted" into a folder holding the file
        folder = src_dir / f"{name}_extracted" if extract else src_dir
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(f"content of {name}")
        return str(folder if extract else folder / name)

    monkeypatch.setattr(keras.utils, "get_file", fake_get_file)
    messages: list[str] = []
    out = tmp_path / "new" / "data"
    paths = ds.fetch_all(out, progress=messages.append)
    assert {k: v for k, v in fetched.items() if k in keras_args} == keras_args  # Keras's own
    assert sorted(p.name for p in paths) == sorted(files.source_names())  # and tasks' files
    for p in paths:
        assert p.parent == out and p.read_text() == f"content of {p.name}"
    assert not list(out.glob("*.part")) and any("saved" in m for m in messages)
    assert all(ds.data_status(out)[name] for name in ds.DATA_FILES)

    fetched.clear()  # second run: everything present, nothing downloaded
    assert len(ds.fetch_all(out)) == len(files.source_names()) and fetched == {}


def test_fetch_all_failure_raises_after_saving_the_rest(keras, monkeypatch, tmp_path) -> None:
    def flaky(fname: str, origin: str, **kw: object) -> str:
        if fname == "mnist.npz":
            raise Exception("URL fetch failure")
        (tmp_path / fname).write_text("x")
        return str(tmp_path / fname)

    monkeypatch.setattr(keras.utils, "get_file", flaky)
    with pytest.raises(ds.DataMissingError, match="mnist.npz") as info:
        ds.fetch_all(tmp_path / "out")
    assert FIX in str(info.value)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "imdb.npz",
        "imdb_word_index.json",
        "nietzsche.txt",
    ]


def test_data_status_and_resolve_data_dir(monkeypatch, tmp_path) -> None:
    write_tiny_mnist(tmp_path / "d" / "mnist.npz")
    cache = tmp_path / "keras_home" / "datasets"
    cache.mkdir(parents=True)
    (cache / "nietzsche.txt").write_text("x")
    status = ds.data_status(tmp_path / "d")
    assert status["data_dir"] == str(tmp_path / "d") and status["keras_cache"] == str(cache)
    assert status["mnist.npz"] and status["nietzsche.txt"]
    assert not status["imdb.npz"] and not status["imdb_word_index.json"]
    assert ds.data_status()["data_dir"] == "" and not ds.data_status()["mnist.npz"]

    assert ds.resolve_data_dir(None) is None and ds.resolve_data_dir("") is None
    monkeypatch.setenv(ds.ENV_VAR, str(tmp_path / "env"))
    assert ds.resolve_data_dir(None) == tmp_path / "env"
    assert ds.resolve_data_dir(str(tmp_path / "arg")) == tmp_path / "arg"
    assert ds.data_status()["data_dir"] == str(tmp_path / "env")


def test_subset() -> None:
    y = np.array([0] * 70 + [1] * 30)
    x = np.arange(100 * 3, dtype=np.float32).reshape(100, 3)
    xs, ys = ds.subset(x, y, 20, np.random.default_rng(0))
    assert xs.shape == (20, 3) and np.bincount(ys).tolist() == [14, 6]
    rows = (xs[:, 0] / 3).astype(int)
    assert np.all(np.diff(rows) > 0) and np.array_equal(y[rows], ys)  # original order
    xs2, ys2 = ds.subset(x, y, 20, 0)
    xs3, _ = ds.subset(x, y, 20, 0)
    assert np.array_equal(xs2, xs3)  # reproducible from a seed
    xa, ya = ds.subset(x, y, None, 0)
    assert np.array_equal(xa, x) and not np.shares_memory(xa, x) and not np.shares_memory(ya, y)
    xr, yr = ds.subset(x, y, 10, 0, stratify=False)
    assert len(xr) == len(yr) == 10
    ragged = np.empty(4, dtype=object)
    for i in range(4):
        ragged[i] = [i] * (i + 1)
    rs, _ = ds.subset(ragged, np.array([0, 1, 0, 1]), 2, 0)
    rs[0].append(99)
    assert all(99 not in s for s in ragged)  # lists are copies too


def test_import_is_light() -> None:
    code = (
        "import sys, rnn_core.data.loaders; "
        "bad = [m for m in ('tensorflow', 'keras', 'streamlit') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


# ---------------------------------------------------------------- real data (skipped if absent)

real = needs_shared("imdb.npz")


@pytest.fixture(scope="module")
def real_imdb():  # noqa: ANN201
    return ds.load_imdb(num_words=10000, data_dir=SHARED)


@real
@pytest.mark.slow
def test_real_imdb_published_facts(real_imdb) -> None:
    (x_train, y_train), (x_test, y_test) = real_imdb
    assert len(x_train) == len(x_test) == 25000
    assert x_train[0][:12] == [1, 14, 22, 16, 43, 530, 973, 1622, 1385, 65, 458, 4468]
    assert len(x_train[0]) == 218 and len(x_train[1]) == 189
    assert y_train[:10].tolist() == [1, 0, 0, 1, 0, 0, 1, 0, 1, 0]
    assert np.mean([len(s) for s in x_train]) == pytest.approx(238.71364, abs=1e-9)
    assert np.mean([len(s) for s in x_test]) == pytest.approx(230.8042, abs=1e-9)
    assert max(max(s) for s in x_train) == 9999
    index = ds.get_word_index(SHARED)
    assert len(index) == 88584 and index["the"] == 1
    text = ds.decode_review(x_train[0], index)
    assert text.startswith("<START> this film was just brilliant casting location scenery")
    ids, unknown = ds.encode_review("This film was just brilliant!", index, num_words=10000)
    assert ids == x_train[0][:6] and unknown == []


@real
@pytest.mark.slow
def test_real_mnist_and_nietzsche() -> None:
    (x_train, y_train), (x_test, y_test) = ds.load_mnist(SHARED)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert float(x_train.mean(dtype=np.float64)) == pytest.approx(0.1306604762738429, rel=1e-6)
    text = ds.load_nietzsche(SHARED).lower()
    assert len(text) == 600893 and len(set(text)) == 57
    status = ds.data_status(SHARED)
    assert all(status[name] for name in ds.DATA_FILES)

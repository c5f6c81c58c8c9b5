"""Dataset layer: IMDB, MNIST and the Nietzsche corpus, read locally or through Keras."""

from __future__ import annotations

import contextlib
import gc
import io
import itertools
import json
import os
import pickle
import shutil
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

IMDB_FILE = "imdb.npz"
WORD_INDEX_FILE = "imdb_word_index.json"
MNIST_FILE = "mnist.npz"
NIETZSCHE_FILE = "nietzsche.txt"
DATA_FILES = (IMDB_FILE, WORD_INDEX_FILE, MNIST_FILE, NIETZSCHE_FILE)
ENV_VAR = "RNN_LAB_DATA_DIR"

_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
NIETZSCHE_URL = "https://s3.amazonaws.com/text-datasets/nietzsche.txt"
_IMDB_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
_MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
# (origin, file_hash) exactly as Keras's own loaders pass them to `get_file`.
_SOURCES: dict[str, tuple[str, str | None]] = {
    IMDB_FILE: (_ORIGIN + IMDB_FILE, _IMDB_SHA256),
    WORD_INDEX_FILE: (_ORIGIN + WORD_INDEX_FILE, "bfafd718b763782e994055a2d397834f"),
    MNIST_FILE: (_ORIGIN + MNIST_FILE, _MNIST_SHA256),
    NIETZSCHE_FILE: (NIETZSCHE_URL, None),
}
_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_SPLIT_TABLE = str.maketrans({c: " " for c in _FILTERS})
_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
_PICKLE_ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype")} | {
    (m, "_reconstruct") for m in _MULTIARRAY
}

Split = tuple[np.ndarray, np.ndarray]


class DataMissingError(RuntimeError):
    """A dataset file is neither available locally nor downloadable right now."""

    def __init__(self, filename: str, data_dir: Path | None, reason: str = "") -> None:
        self.filename, self.data_dir, self.reason = filename, data_dir, reason
        where = [str(data_dir) if data_dir else "(no data directory set)"]
        super().__init__(
            f"Dataset file '{filename}' is not available ({reason or 'not found'}). Looked in: "
            f"{', '.join(where + [str(d) for d in keras_cache_dirs()])}.\n"
            "Fix: while online, run `python -m rnn_core fetch --data-dir DIR`, or copy "
            f"'{filename}' into the directory named by --data-dir / the {ENV_VAR} environment "
            "variable / the app's data-directory setting."
        )


def resolve_data_dir(data_dir: str | Path | None = None) -> Path | None:
    """Return the data directory: explicit argument, else $RNN_LAB_DATA_DIR, else None."""
    chosen = data_dir if data_dir not in (None, "") else os.environ.get(ENV_VAR) or None
    return Path(chosen).expanduser() if chosen is not None else None


def keras_cache_dirs() -> list[Path]:
    """Return the directories where Keras's `get_file` caches datasets (`$KERAS_HOME/datasets`)."""
    home = os.environ.get("KERAS_HOME")
    if home:
        return [Path(home).expanduser() / "datasets"]
    base = Path.home()
    base = base if os.access(base, os.W_OK) else Path("/tmp")
    return [base / ".keras" / "datasets"]


def _local_files(name: str, data_dir: Path | None) -> list[Path]:
    dirs = ([data_dir] if data_dir else []) + keras_cache_dirs()
    return [d / name for d in dirs if (d / name).is_file()]


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _PICKLE_ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from a dataset file")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read an npz (object arrays included) unpickling only numpy arrays, like Keras does."""
    arrays: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            buf = io.BytesIO(archive.read(member))
            try:
                arrays[member[:-4]] = np.lib.format.read_array(buf, allow_pickle=False)
            except ValueError:
                buf.seek(0)
                version = np.lib.format.read_magic(buf)
                if version[0] == 1:
                    np.lib.format.read_array_header_1_0(buf)
                else:
                    np.lib.format.read_array_header_2_0(buf)
                arrays[member[:-4]] = _SafeUnpickler(buf).load()
    return arrays


_READ_ERRORS = (OSError, ValueError, KeyError, zipfile.BadZipFile, pickle.UnpicklingError)


def _load(
    name: str,
    data_dir: Path | None,
    reader: Callable[[Path], Any],
    keras_call: Callable[[Any], Any],
    post: Callable[[Any], Any] = lambda value: value,
) -> Any:
    """Read `name` from the data dir, else Keras's cache, else via Keras (may download)."""
    for path in _local_files(name, data_dir):
        try:
            value = reader(path)
        except _READ_ERRORS as exc:  # a broken cache copy falls through to Keras
            if data_dir and path.parent == data_dir:
                reason = f"{path} is unreadable: {_short(exc)}"
                raise DataMissingError(name, data_dir, reason) from exc
            continue
        return post(value)
    try:
        import keras

        return keras_call(keras)
    except Exception as exc:
        if isinstance(exc, ValueError) and "maxlen" in str(exc):
            raise  # a parameter problem, not missing data
        raise DataMissingError(name, data_dir, _short(exc)) from exc


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic GC while building ~50k lists (halves IMDB load time)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _imdb_arrays(path: Path) -> tuple[np.ndarray, ...]:
    f = _read_npz(path)
    return f["x_train"], f["y_train"], f["x_test"], f["y_test"]


def _imdb_process(raw: tuple[np.ndarray, ...], kw: dict[str, Any]) -> tuple[Split, Split]:
    """Apply `keras.datasets.imdb.load_data`'s steps (vectorised) to the raw-rank arrays."""
    x_train, y_train, x_test, y_test = raw
    num_words, skip_top, maxlen = kw["num_words"], kw["skip_top"], kw["maxlen"]
    start_char, oov_char, index_from = kw["start_char"], kw["oov_char"], kw["index_from"]
    rng = np.random.RandomState(kw["seed"])  # permutation(n) == shuffle(arange(n)), as Keras
    idx = rng.permutation(len(x_train))
    x_train, y_train = x_train[idx], y_train[idx]
    idx = rng.permutation(len(x_test))
    x_test, y_test = x_test[idx], y_test[idx]

    seqs = list(x_train) + list(x_test)
    lengths = np.fromiter(map(len, seqs), dtype=np.int64, count=len(seqs))
    flat = np.fromiter(itertools.chain.from_iterable(seqs), dtype=np.int64, count=lengths.sum())
    if start_char is not None or index_from:
        flat += index_from
    if start_char is not None:
        flat = np.insert(flat, np.cumsum(lengths) - lengths, start_char)
        lengths = lengths + 1
    keep = np.ones(len(seqs), dtype=bool)
    n_train = len(x_train)
    if maxlen:
        keep = lengths < maxlen
        if not keep[:n_train].any() or not keep[n_train:].any():
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, "
                "no sequence was kept. Increase maxlen."
            )
        flat, lengths = flat[np.repeat(keep, lengths)], lengths[keep]
    labels = np.concatenate([y_train[keep[:n_train]], y_test[keep[n_train:]]])
    n_train = int(keep[:n_train].sum())
    if not num_words:
        num_words = int(flat.max())
    in_vocab = (flat >= skip_top) & (flat < num_words)
    if oov_char is not None:
        flat = np.where(in_vocab, flat, oov_char)
    else:
        seq_id = np.repeat(np.arange(len(lengths)), lengths)
        lengths = np.bincount(seq_id[in_vocab], minlength=len(lengths))
        flat = flat[in_vocab]
    ends = np.cumsum(lengths).tolist()
    values = flat.tolist()
    xs = [values[a:b] for a, b in zip([0] + ends[:-1], ends, strict=True)]
    x_train, x_test = np.array(xs[:n_train], dtype="object"), np.array(xs[n_train:], dtype="object")
    return (x_train, labels[:n_train]), (x_test, labels[n_train:])


def load_imdb(
    num_words: int | None = 10000,
    skip_top: int = 0,
    maxlen: int | None = None,
    seed: int = 113,
    start_char: int | None = 1,
    oov_char: int | None = 2,
    index_from: int = 3,
    data_dir: str | Path | None = None,
) -> tuple[Split, Split]:
    """Load IMDB as `((x_train, y_train), (x_test, y_test))`, identical to Keras's `load_data`."""
    ddir = resolve_data_dir(data_dir)
    kw = dict(num_words=num_words, skip_top=skip_top, maxlen=maxlen, seed=seed)
    kw.update(start_char=start_char, oov_char=oov_char, index_from=index_from)
    with _gc_paused():
        return _load(
            IMDB_FILE,
            ddir,
            _imdb_arrays,
            lambda keras: keras.datasets.imdb.load_data(**kw),
            lambda raw: _imdb_process(raw, kw),
        )


def _read_text(path: str | Path) -> str:
    return Path(path).read_text(encoding="utf-8")


def _read_json(path: Path) -> dict[str, int]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def get_word_index(data_dir: str | Path | None = None) -> dict[str, int]:
    """Return IMDB's word -> rank mapping (1 = 'the'); ids in the data are rank + index_from."""
    ddir = resolve_data_dir(data_dir)
    return _load(WORD_INDEX_FILE, ddir, _read_json, lambda k: k.datasets.imdb.get_word_index())


def tokenize(text: str) -> list[str]:
    """Split text like old Keras `text_to_word_sequence` (lowercase, strip filters, split ' ')."""
    return [w for w in text.lower().translate(_SPLIT_TABLE).split(" ") if w]


def decode_review(
    seq: Sequence[int],
    word_index: Mapping[str, int],
    index_from: int = 3,
    start_char: int = 1,
    oov_char: int = 2,
) -> str:
    """Turn ids back into text: 0 (padding) skipped, start -> <START>, oov -> <OOV>."""
    inverse = {rank + index_from: word for word, rank in word_index.items()}
    special = {start_char: "<START>", oov_char: "<OOV>"}
    words = [special.get(i) or inverse.get(i, "<UNK>") for i in map(int, seq) if i != 0]
    return " ".join(words)


def encode_review(
    text: str,
    word_index: Mapping[str, int],
    num_words: int | None = 10000,
    index_from: int = 3,
    start_char: int | None = 1,
    oov_char: int = 2,
) -> tuple[list[int], list[str]]:
    """Encode text as the model sees it; returns (ids, words the model does not know)."""
    ids = [] if start_char is None else [start_char]
    unknown: dict[str, None] = {}
    for word in tokenize(text):
        rank = word_index.get(word)
        if rank is not None and (num_words is None or rank + index_from < num_words):
            ids.append(rank + index_from)
        else:
            ids.append(oov_char)
            unknown[word] = None
    return ids, list(unknown)


def pad(
    sequences: Sequence[Sequence[int]],
    maxlen: int | None,
    padding: str = "pre",
    truncating: str = "pre",
    value: int = 0,
) -> np.ndarray:
    """Pad/truncate to an (N, maxlen) int32 array, like `keras.utils.pad_sequences`."""
    if padding not in ("pre", "post") or truncating not in ("pre", "post"):
        raise ValueError(f"padding/truncating must be 'pre' or 'post', got {padding}/{truncating}")
    if maxlen is None:
        maxlen = max((len(s) for s in sequences), default=0)
    if maxlen < 1 and any(len(s) for s in sequences):
        raise ValueError(f"maxlen must be >= 1, got {maxlen}")
    out = np.full((len(sequences), maxlen), value, dtype=np.int32)
    for i, s in enumerate(sequences):
        if not len(s):
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=np.int32)
        if padding == "post":
            out[i, : len(kept)] = kept
        else:
            out[i, -len(kept) :] = kept
    return out


@dataclass(frozen=True)
class TruncationReport:
    """What `pad` does to one sequence: how much was cut or padded and which part remains."""

    original_length: int
    maxlen: int
    truncating: str
    n_cut: int
    n_pad: int
    kept_start: int
    kept_end: int

    @property
    def summary(self) -> str:
        """One human-readable sentence describing the effect."""
        if self.n_cut:
            part = "last" if self.truncating == "pre" else "first"
            return (
                f"{self.n_cut} of {self.original_length} tokens cut; the {part} "
                f"{self.maxlen} remain (positions {self.kept_start}-{self.kept_end - 1})."
            )
        return f"All {self.original_length} tokens kept; {self.n_pad} padding values added."


def truncation_report(seq: Sequence[int], maxlen: int, truncating: str = "pre") -> TruncationReport:
    """Describe how `pad(..., maxlen, truncating=...)` treats one sequence."""
    if truncating not in ("pre", "post"):
        raise ValueError(f"truncating must be 'pre' or 'post', got {truncating}")
    n = len(seq)
    n_cut = max(0, n - maxlen)
    start, end = (n_cut, n) if truncating == "pre" else (0, n - n_cut)
    return TruncationReport(n, maxlen, truncating, n_cut, max(0, maxlen - n), start, end)


def _mnist_arrays(path: Path) -> tuple[Split, Split]:
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_mnist(data_dir: str | Path | None = None, normalize: bool = True) -> tuple[Split, Split]:
    """Load MNIST: x as float32 in [0, 1] of shape (N, 28, 28) (rows = timesteps), y as int64."""
    ddir = resolve_data_dir(data_dir)
    data = _load(MNIST_FILE, ddir, _mnist_arrays, lambda keras: keras.datasets.mnist.load_data())
    if not normalize:
        return data
    out = []
    for x, y in data:
        xf = x.astype(np.float32)
        xf /= np.float32(255.0)
        out.append((xf, y.astype(np.int64)))
    return out[0], out[1]


def load_nietzsche(data_dir: str | Path | None = None) -> str:
    """Return the Nietzsche corpus (Keras's `lstm_text_generation` text) as a str."""
    ddir = resolve_data_dir(data_dir)
    return _load(
        NIETZSCHE_FILE,
        ddir,
        _read_text,
        lambda keras: _read_text(keras.utils.get_file(NIETZSCHE_FILE, origin=NIETZSCHE_URL)),
    )


def fetch_all(
    data_dir: str | Path,
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Download the four files via Keras (its origins and hashes) and copy them into data_dir."""
    import keras

    target = Path(data_dir).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    done, failed = [], []
    for name, (origin, file_hash) in _SOURCES.items():
        dest = target / name
        if dest.is_file() and not overwrite:
            say(f"{name}: already in {target}, skipped")
            done.append(dest)
            continue
        say(f"{name}: downloading from {origin}")
        try:
            src = keras.utils.get_file(fname=name, origin=origin, file_hash=file_hash)
            tmp = dest.with_name(dest.name + ".part")
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except Exception as exc:
            say(f"{name}: FAILED ({_short(exc)})")
            failed.append(f"{name} ({_short(exc)})")
            continue
        say(f"{name}: saved to {dest}")
        done.append(dest)
    if failed:
        raise DataMissingError(", ".join(failed), target, "fetch_all could not download it")
    return done


def data_status(data_dir: str | Path | None = None) -> dict[str, bool | str]:
    """Report which of the four files are available (data dir or Keras cache) without loading."""
    ddir = resolve_data_dir(data_dir)
    status: dict[str, bool | str] = {
        "data_dir": str(ddir) if ddir else "",
        "keras_cache": str(keras_cache_dirs()[0]),
    }
    for name in DATA_FILES:
        status[name] = bool(_local_files(name, ddir))
    return status


def subset(
    x: np.ndarray,
    y: np.ndarray,
    n: int | None,
    rng: np.random.Generator | int | None = None,
    stratify: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Return copies of n examples (class-stratified by default), kept in original order."""
    total = len(y)
    if n is None or n >= total:
        picked = np.arange(total)
    elif n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    else:
        gen = np.random.default_rng(rng)
        if stratify:
            classes, inverse = np.unique(np.asarray(y), return_inverse=True)
            counts = np.bincount(inverse.ravel(), minlength=len(classes))
            share = counts * n / total
            take = np.floor(share).astype(np.int64)
            extra = np.argsort(-(share - take), kind="stable")[: n - int(take.sum())]
            take[extra] += 1
            picked = np.concatenate(
                [
                    gen.choice(np.flatnonzero(inverse.ravel() == c), size=k, replace=False)
                    for c, k in enumerate(take)
                ]
            )
        else:
            picked = gen.choice(total, size=n, replace=False)
        picked = np.sort(picked)
    xs = x[picked]  # fancy indexing: one copy of the selected rows only
    if xs.dtype == object:
        for i, item in enumerate(xs):
            xs[i] = list(item)
    return xs, np.asarray(y)[picked]

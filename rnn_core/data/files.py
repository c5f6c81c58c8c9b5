"""Where dataset files live: the data directory, Keras's cache, download (fetch) and status.

Files keep Keras's own formats (``imdb.npz``, ``imdb_word_index.json``, ``mnist.npz``,
``nietzsche.txt``); :mod:`rnn_core.data.loaders` turns them into arrays.
"""

from __future__ import annotations

import io
import os
import pickle
import shutil
import zipfile
from collections.abc import Callable, Iterator
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
_ARCHIVES: set[str] = set()  # files whose origin is a .zip that holds them (Keras extracts)


def add_source(name: str, origin: str, file_hash: str | None = None, zipped: bool = False) -> None:
    """Make a task's dataset file known to ``fetch``, :func:`data_status` and :func:`download`.

    A task module calls this once at import for each file it reads; ``zipped``: ``origin`` is a
    zip archive holding ``name``.
    """
    _SOURCES[name] = (origin, file_hash)
    if zipped:
        _ARCHIVES.add(name)


def source_names() -> tuple[str, ...]:
    """Every dataset file ``fetch`` knows: the built-in four, then those tasks added."""
    import rnn_core.tasks  # noqa: F401  (every task module adds the files it reads)

    return tuple(_SOURCES)


def download(name: str) -> Path:
    """Download ``name`` via Keras (its origin and hash; zips extracted) and return its path."""
    import keras

    origin, file_hash = _SOURCES[name]
    if name not in _ARCHIVES:
        return Path(keras.utils.get_file(fname=name, origin=origin, file_hash=file_hash))
    archive = origin.rsplit("/", 1)[-1]
    folder = keras.utils.get_file(fname=archive, origin=origin, file_hash=file_hash, extract=True)
    found = sorted(Path(folder).rglob(name))
    if not found:
        raise FileNotFoundError(f"{origin} holds no {name}")
    return found[0]


_MULTIARRAY = ("numpy.core.multiarray", "numpy._core.multiarray")
_PICKLE_ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype")} | {
    (m, "_reconstruct") for m in _MULTIARRAY
}


class DataMissingError(RuntimeError):
    """A dataset file is neither available locally nor downloadable right now."""

    def __init__(self, filename: str, data_dir: Path | None, reason: str = "") -> None:
        self.filename, self.data_dir, self.reason = filename, data_dir, reason
        super().__init__(missing_message(filename, data_dir, reason))


def missing_message(filename: str, data_dir: Path | None, reason: str = "") -> str:
    """What is missing, where we looked, and the exact command or setting that fixes it."""
    where = [str(d) + ("" if d.is_dir() else " (no such folder)") for d in keras_cache_dirs()]
    if data_dir:
        where.insert(0, str(data_dir) + ("" if data_dir.is_dir() else " (no such folder)"))
    else:
        where.insert(0, "(no data directory set)")
    target = str(data_dir) if data_dir else "DIR"
    return (
        f"Dataset file '{filename}' is not available ({reason or 'not found'}). "
        f"Looked in: {', '.join(where)}.\n"
        f"Fix: while online, run `python -m rnn_core fetch --data-dir {target}`, or copy "
        f"'{filename}' into a folder and name it with --data-dir (CLI), the {ENV_VAR} "
        "environment variable, or the app's data-directory setting."
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


def local_files(name: str, data_dir: Path | None) -> list[Path]:
    """Existing copies of ``name``: in the data dir first, then in Keras's cache."""
    dirs = ([data_dir] if data_dir else []) + keras_cache_dirs()
    return [d / name for d in dirs if (d / name).is_file()]


def _short(exc: BaseException) -> str:
    """An exception as one short line."""
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class _SafeUnpickler(pickle.Unpickler):
    """Unpickles numpy arrays and nothing else."""

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in _PICKLE_ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name} from a dataset file")


def iter_npz(path: Path) -> Iterator[tuple[str, np.ndarray]]:
    """Yield an npz's arrays (object arrays included) one at a time, unpickling only numpy
    arrays, like Keras does; the last one is released before the next is read."""
    with zipfile.ZipFile(path) as archive:
        for member in archive.namelist():
            if not member.endswith(".npy"):
                continue
            buf = io.BytesIO(archive.read(member))
            try:
                array = np.lib.format.read_array(buf, allow_pickle=False)
            except ValueError:
                buf.seek(0)
                version = np.lib.format.read_magic(buf)
                if version[0] == 1:
                    np.lib.format.read_array_header_1_0(buf)
                else:
                    np.lib.format.read_array_header_2_0(buf)
                array = _SafeUnpickler(buf).load()
            del buf
            yield member[:-4], array
            del array  # the caller holds it as long as it needs it


def read_npz(path: Path) -> dict[str, np.ndarray]:
    """Read an npz (object arrays included) unpickling only numpy arrays, like Keras does."""
    return dict(iter_npz(path))


_READ_ERRORS = (OSError, ValueError, KeyError, zipfile.BadZipFile, pickle.UnpicklingError)


def load_file(
    name: str,
    data_dir: Path | None,
    reader: Callable[[Path], Any],
    keras_call: Callable[[Any], Any],
    post: Callable[[Any], Any] = lambda value: value,
) -> Any:
    """Read `name` from the data dir, else Keras's cache, else via Keras (may download)."""
    for path in local_files(name, data_dir):
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


def fetch_all(
    data_dir: str | Path,
    progress: Callable[[str], None] | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Download every known file via Keras (origins and hashes) and copy them into data_dir."""
    target = Path(data_dir).expanduser()
    target.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda _msg: None)
    done, failed = [], []
    for name in source_names():
        origin = _SOURCES[name][0]
        dest = target / name
        if dest.is_file() and not overwrite:
            say(f"{name}: already in {target}, skipped")
            done.append(dest)
            continue
        say(f"{name}: downloading from {origin}")
        try:
            src = download(name)
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
    """Report which known files are available (data dir or Keras cache) without loading."""
    ddir = resolve_data_dir(data_dir)
    status: dict[str, bool | str] = {
        "data_dir": str(ddir) if ddir else "",
        "keras_cache": str(keras_cache_dirs()[0]),
    }
    for name in source_names():
        status[name] = bool(local_files(name, ddir))
    return status

"""Session files: every run of a session in one zip, written and read back with strict checks.

Layout (format ``rnn-lab-session/1``)::

    session.json           {"format": "rnn-lab-session/1", "runs": N, "saved": "YYYY-MM-DD"}
    run-1.json             run 1's manifest (``rnn_core.run_file``: config, history, results)
    run-1.weights.h5       run 1's Keras weights (no pickle, no code)
    ...                    up to run-N

:func:`read_session` refuses (one :class:`SessionFileError`, one readable line each): a file
over :data:`MAX_BYTES`, anything but a zip, members over :data:`MAX_UNPACKED` unpacked, a
member it does not know, a missing member, another format version, more than
:data:`MAX_RUNS` runs, and every run-file refusal (config that does not parse or build,
weights that are not a weights file or do not fit the configured model).
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rnn_core.run_file import Restored, RunFile, RunFileError, read_run_file, run_to_file

if TYPE_CHECKING:
    from rnn_core.run import Run

FORMAT = "rnn-lab-session/1"  # the "format" field of session.json
MANIFEST = "session.json"  # the member that describes the file
MAX_BYTES = 50 * 2**20  # the largest session file read (50 MB, as uploaded)
MAX_UNPACKED = 200 * 2**20  # the largest total size of its members once unpacked
MAX_RUNS = 8  # runs in one file (a session keeps at most 8)
SUFFIX = ".rnnlab.zip"  # the suggested file name's ending


class SessionFileError(ValueError):
    """A session file that is refused; the message is the one line to show."""


def members(count: int) -> list[str]:
    """Every member name of a session file with ``count`` runs, manifest first."""
    names = [MANIFEST]
    for i in range(1, count + 1):
        names += [f"run-{i}.json", f"run-{i}.weights.h5"]
    return names


def write_files(files: Sequence[RunFile]) -> bytes:
    """A session file holding these run files, in order."""
    if len(files) > MAX_RUNS:
        raise SessionFileError(f"a session file holds at most {MAX_RUNS} runs, not {len(files)}")
    buf = io.BytesIO()
    head = {"format": FORMAT, "runs": len(files), "saved": time.strftime("%Y-%m-%d")}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(MANIFEST, json.dumps(head))
        for i, f in enumerate(files, start=1):
            zf.writestr(f"run-{i}.json", json.dumps(f.manifest, ensure_ascii=False))
            zf.writestr(f"run-{i}.weights.h5", f.weights)
    return buf.getvalue()


def write_session(runs: Sequence[Run]) -> bytes:
    """A session file of these runs (``run_file.why_not_saved`` must be "" for each)."""
    try:
        return write_files([run_to_file(r) for r in runs])
    except RunFileError as exc:
        raise SessionFileError(str(exc)) from None


def _mb(n: int) -> str:
    """Bytes as megabytes for a message."""
    return f"{n / 2**20:.1f} MB"


def _unpacked(zf: zipfile.ZipFile) -> dict[str, bytes]:
    """Every member's bytes, refusing unknown or missing members and oversized contents."""
    infos = zf.infolist()
    if sum(i.file_size for i in infos) > MAX_UNPACKED:
        raise SessionFileError(f"its contents unpack to more than {_mb(MAX_UNPACKED)}")
    names = [i.filename for i in infos]
    if MANIFEST not in names:
        raise SessionFileError(f"it has no {MANIFEST}, so it is not an RNN Lab session file")
    out, left = {}, MAX_UNPACKED
    for info in infos:
        with zf.open(info) as f:
            out[info.filename] = f.read(left + 1)  # sizes in the header can lie
        left -= len(out[info.filename])
        if left < 0:
            raise SessionFileError(f"its contents unpack to more than {_mb(MAX_UNPACKED)}")
    return out


def _head(raw: bytes) -> int:
    """The number of runs in ``session.json`` after checking its format version."""
    try:
        head = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise SessionFileError(f"its {MANIFEST} is not readable JSON") from None
    if not isinstance(head, dict) or "format" not in head:
        raise SessionFileError(f"its {MANIFEST} does not name a format")
    if head["format"] != FORMAT:
        raise SessionFileError(
            f"it is in format {head['format']!r}; this RNN Lab reads {FORMAT} "
            "(a newer RNN Lab may have written it)"
        )
    count = head.get("runs")
    if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_RUNS:
        raise SessionFileError(f"its {MANIFEST} gives {count!r} runs (0 to {MAX_RUNS} allowed)")
    return count


def read_session(blob: bytes) -> list[Restored]:
    """Every run of a session file, checked (needs TensorFlow); SessionFileError otherwise.

    Nothing is returned unless every run passes, so a refused file changes nothing.
    """
    if len(blob) > MAX_BYTES:
        raise SessionFileError(
            f"the file is {_mb(len(blob))}; a session file can be at most {_mb(MAX_BYTES)}"
        )
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as zf:
            files = _unpacked(zf)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError):
        raise SessionFileError("it is not a zip archive, so not an RNN Lab session file") from None
    except (RuntimeError, NotImplementedError, ValueError) as exc:  # encrypted, odd compression
        if isinstance(exc, SessionFileError):
            raise
        raise SessionFileError(f"its zip archive cannot be read ({exc})") from None
    count = _head(files[MANIFEST])
    expected = members(count)
    unknown = sorted(set(files) - set(expected))
    if unknown:
        raise SessionFileError(f"it holds files a session file does not have: {', '.join(unknown)}")
    missing = [n for n in expected if n not in files]
    if missing:
        raise SessionFileError(f"it lacks {', '.join(missing)}")
    restored = []
    for i in range(1, count + 1):
        where = f"run-{i}.json"
        try:
            manifest = json.loads(files[where].decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise SessionFileError(f"{where} is not readable JSON") from None
        try:
            restored.append(read_run_file(manifest, files[f"run-{i}.weights.h5"], where))
        except RunFileError as exc:
            raise SessionFileError(str(exc)) from None
    return restored

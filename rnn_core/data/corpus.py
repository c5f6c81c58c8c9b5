"""Text corpora for character models: loading, upload checks, vocabulary, windows, word validity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

CORPORA = ("nietzsche", "python-docs")  # built-in corpus names; anything else is a file path
MAX_BYTES = 5 * 1024 * 1024  # largest upload / file accepted (5 MB)
MIN_CHARS = 10_000  # shortest corpus accepted
MAX_DISTINCT = 200  # most distinct characters accepted (the size of the softmax)
_WORD_RE = re.compile(r"[a-z]+")
MIN_WORD = 2  # shortest token scored: single letters ("a", the "e" of "e.g.") are always valid


class CorpusError(ValueError):
    """A text the app refuses, with a message a student can act on."""


@dataclass(frozen=True)
class Corpus:
    """A training text and where it came from."""

    name: str  # "nietzsche", "python-docs" or the file's name
    text: str  # the text as trained on (lowercased if asked)
    source: str  # one line for the UI: where the text came from


def python_docs_text() -> str:
    """The Python language reference topics that ship with Python (``pydoc_data.topics``)."""
    from pydoc_data.topics import topics

    return "\n\n".join(topics[key].strip() for key in sorted(topics))


def decode_upload(data: bytes, name: str = "upload") -> str:
    """Decode a .txt upload as UTF-8 (BOM and CRLF tolerated); CorpusError if it is not text."""
    if len(data) > MAX_BYTES:
        raise CorpusError(
            f"{name} is {len(data) / 1e6:.1f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB. A few "
            "hundred kilobytes of text are plenty for a character model: cut the file down."
        )
    if b"\x00" in data[:65536]:
        raise CorpusError(
            f"{name} looks like a binary file (it contains NUL bytes), not plain text. "
            "Upload a .txt file saved as UTF-8."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"{name} is not valid UTF-8 (byte {exc.start} is 0x{data[exc.start]:02x}). It may be "
            "a binary file or another encoding such as Latin-1: open it in a text editor and "
            "save it as UTF-8."
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_text(text: str, name: str) -> None:
    """Raise CorpusError when a text is too short or has too many distinct characters."""
    if len(text) < MIN_CHARS:
        raise CorpusError(
            f"{name} has {len(text):,} characters; at least {MIN_CHARS:,} are needed. The model "
            "learns which character follows which context from many overlapping windows; a "
            "short text is memorised rather than learned, and too little is left over to "
            "validate on."
        )
    distinct = len(set(text))
    if distinct > MAX_DISTINCT:
        raise CorpusError(
            f"{name} has {distinct:,} distinct characters; at most {MAX_DISTINCT} are allowed. "
            "The model ends in a softmax over every character, so each rare symbol costs "
            "weights and is seen too seldom to learn. Try the lowercase option, or a text in "
            "one alphabet."
        )


def _finish(name: str, text: str, source: str, lowercase: bool) -> Corpus:
    """Lowercase if asked, check, and wrap."""
    text = text.lower() if lowercase else text
    check_text(text, name)
    return Corpus(name, text, source)


def corpus_from_bytes(name: str, data: bytes, lowercase: bool = True) -> Corpus:
    """A corpus from an uploaded file's bytes; CorpusError with a clear message if refused."""
    return _finish(name, decode_upload(data, name), f"uploaded file {name}", lowercase)


def load_corpus(source: str, lowercase: bool = True, data_dir: str | Path | None = None) -> Corpus:
    """``nietzsche`` (data dir, Keras cache or download), ``python-docs``, or a .txt path.

    Raises ``datasets.DataMissingError`` when Nietzsche is unavailable offline, CorpusError
    for a file that is refused.
    """
    if source == "nietzsche":
        from rnn_core.data.loaders import load_nietzsche

        text = load_nietzsche(data_dir).replace("\r\n", "\n")
        return _finish(source, text, "Nietzsche, Beyond Good and Evil (Keras example)", lowercase)
    if source == "python-docs":
        text = python_docs_text()
        return _finish(source, text, "Python language reference (pydoc_data.topics)", lowercase)
    path = Path(source).expanduser()
    if not path.is_file():
        raise CorpusError(
            f"corpus {source!r} is neither one of {', '.join(CORPORA)} nor a readable file"
        )
    if path.stat().st_size > MAX_BYTES:
        raise CorpusError(f"{path.name} is larger than {MAX_BYTES / 1e6:.0f} MB; cut it down.")
    return corpus_from_bytes(path.name, path.read_bytes(), lowercase)


@dataclass(frozen=True)
class Vocabulary:
    """The corpus alphabet: character <-> integer id, ids in code-point order."""

    chars: str  # every character of the alphabet, sorted by code point
    _codes: np.ndarray = field(init=False, repr=False, compare=False)  # (V,) sorted code points

    def __post_init__(self) -> None:
        """Check the alphabet is sorted and unique, and cache its code points."""
        codes = np.array([ord(c) for c in self.chars], np.int64)  # (V,)
        if len(codes) == 0 or np.any(np.diff(codes) <= 0):
            raise ValueError("a vocabulary needs distinct characters in code-point order")
        object.__setattr__(self, "_codes", codes)

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The alphabet of a text."""
        return cls("".join(sorted(set(text))))

    @property
    def size(self) -> int:
        """Number of characters V."""
        return len(self.chars)

    @property
    def dtype(self) -> np.dtype:
        """Smallest unsigned integer type that holds every id."""
        return np.dtype(np.uint8 if self.size <= 256 else np.uint16)

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` outside the alphabet, in order of first appearance."""
        known = set(self.chars)
        return list(dict.fromkeys(c for c in text if c not in known))

    def encode(self, text: str) -> np.ndarray:
        """Ids of every character; ValueError naming characters outside the alphabet. (N,)"""
        codes = np.frombuffer(text.encode("utf-32-le"), np.uint32).astype(np.int64)  # (N,)
        ids = np.searchsorted(self._codes, codes)  # (N,)
        bad = (ids >= self.size) | (self._codes[np.minimum(ids, self.size - 1)] != codes)
        if bad.any():
            shown = ", ".join(repr(c) for c in self.unknown(text)[:10])
            raise ValueError(
                f"characters outside this corpus's alphabet of {self.size}: {shown}. "
                "Remove or replace them."
            )
        return ids.astype(self.dtype)  # (N,)

    def decode(self, ids: Any) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in np.asarray(ids).ravel())

    def to_json(self) -> dict[str, Any]:
        """Plain data for a JSON sidecar."""
        return {"chars": self.chars}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Vocabulary:
        """Inverse of :meth:`to_json`."""
        return cls(str(data["chars"]))


def make_windows(
    ids: np.ndarray, maxlen: int, step: int, every: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Windows of ``maxlen`` ids every ``step`` ids, as in Keras's example, plus their targets.

    ``every=True``: the target of each position is the id after it, (N, maxlen). ``False``:
    only the id after the window, (N,) (Keras's ``next_chars``). N = ceil((len - maxlen) / step).
    Integer ids only: no one-hot tensor is ever built.
    """
    if maxlen < 1 or step < 1:
        raise ValueError(f"maxlen and step must be at least 1, got {maxlen} and {step}")
    ids = np.asarray(ids)
    if len(ids) <= maxlen:
        raise ValueError(f"a text of {len(ids)} characters has no window of {maxlen} + 1")
    view = sliding_window_view(ids, maxlen + 1)[::step]  # (N, maxlen+1), no copy
    x = np.ascontiguousarray(view[:, :-1])  # (N, maxlen)
    y = np.ascontiguousarray(view[:, 1:] if every else view[:, -1])  # (N, maxlen) or (N,)
    return x, y


def make_stretches(ids: np.ndarray, longest: int) -> tuple[np.ndarray, np.ndarray]:
    """A held-out text cut into S equal stretches of at most ``longest`` ids, read straight
    through: ids (S, L) and the id after every prefix (S, L). The stretches follow one another,
    so every id after the first is a target once (the last ``(len - 1) % S`` are left out)."""
    ids = np.asarray(ids)
    n = len(ids) - 1  # ids that have one before them
    if n < 1 or longest < 1:
        raise ValueError(f"a text of {len(ids)} characters has no stretch of at most {longest}")
    s = -(-n // longest)  # S, the fewest stretches of at most ``longest``
    length = n // s  # L
    x = np.ascontiguousarray(ids[: s * length].reshape(s, length))  # (S, L)
    y = np.ascontiguousarray(ids[1 : s * length + 1].reshape(s, length))  # (S, L)
    return x, y


def corpus_words(text: str) -> frozenset[str]:
    """The words of a corpus: its lowercase alphabetic tokens of two letters or more."""
    return frozenset(w for w in _WORD_RE.findall(text.lower()) if len(w) >= MIN_WORD)


def sample_words(sample: str, prefix: str = "") -> list[str]:
    """Lowercase alphabetic tokens of a generated sample, as scored by :func:`word_validity`.

    A word begun in the ``prefix`` (the seed) and finished in the sample is scored whole; a
    word still running at the end of the sample is left out, since it may be cut short.
    Single letters are not scored: they are always "valid", so a degenerate sample such as
    "e e e e" would otherwise look perfect.
    """
    head = re.search(r"[A-Za-z]*$", prefix).group(0) if prefix else ""
    words = _WORD_RE.findall((head + sample).lower())
    if words and sample[-1:].isascii() and sample[-1:].isalpha():
        words = words[:-1]
    return [w for w in words if len(w) >= MIN_WORD]


def word_validity(samples: str | list[str], words: frozenset[str], prefixes: Any = "") -> float:
    """Distinct corpus words per generated word: a repeated word counts once, so repeats cost.

    For each sample, the number of *distinct* words of :func:`sample_words` that are words of
    the corpus (:func:`corpus_words` of the training text); summed over the samples and divided
    by the number of words they hold, repeats included. ``"the " * 100`` scores 1/100, not 1.
    Real prose repeats words too, so it scores below 1: compare with the same measure on real
    text of the same length. 0.0 when the samples hold no word at all.
    """
    samples = [samples] if isinstance(samples, str) else list(samples)
    prefixes = [prefixes] * len(samples) if isinstance(prefixes, str) else list(prefixes)
    found = [sample_words(s, p) for s, p in zip(samples, prefixes, strict=True)]
    total = sum(len(f) for f in found)
    return sum(len(set(f) & words) for f in found) / total if total else 0.0


def seed_from(text: str, length: int, start: int, look: int = 2000) -> str:
    """``length`` characters of ``text`` from the first sentence start at or after ``start``.

    A sentence start is a letter after ". ", "! ", "? " or a blank line, looked for within
    ``look`` characters; failing that, the first word start.
    """
    start = max(0, start)
    for pattern in (r"(?:(?<=[.!?] )|(?<=[.!?]\n)|(?<=\n\n))[A-Za-z]", r"(?<![A-Za-z])[A-Za-z]"):
        match = re.compile(pattern).search(text, start, start + look)
        if match and match.start() + length <= len(text):
            return text[match.start() : match.start() + length]
    return text[start : start + length]

"""Review text as IMDB's word ids: Keras's old tokenizer, encode/decode, pad and truncate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_SPLIT_TABLE = str.maketrans({c: " " for c in _FILTERS})


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

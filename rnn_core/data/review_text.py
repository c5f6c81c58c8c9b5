"""Review text as IMDB's word ids: Keras's old tokenizer, encode/decode, pad and truncate."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rnn_core.data.ragged import Ragged

PAD_ID = 0  # padding added by ``pad``
START_ID = 1  # Keras's start_char: marks the start of a review
OOV_ID = 2  # Keras's oov_char: a word outside the vocabulary
INDEX_FROM = 3  # Keras's offset from a word's frequency rank to its id (after 0, 1, 2)
SPECIAL = {START_ID: "<START>", OOV_ID: "<OOV>"}  # how the special ids are spelled
_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
_SPLIT_TABLE = str.maketrans({c: " " for c in _FILTERS})


def tokenize(text: str) -> list[str]:
    """Split text like old Keras `text_to_word_sequence` (lowercase, strip filters, split ' ')."""
    return [w for w in text.lower().translate(_SPLIT_TABLE).split(" ") if w]


def index_words(word_index: Mapping[str, int], index_from: int = INDEX_FROM) -> dict[int, str]:
    """Model id -> word: IMDB's word -> frequency rank mapping shifted by ``index_from``."""
    return {rank + index_from: word for word, rank in word_index.items()}


def id_words(
    ids: Sequence[int],
    index_word: Mapping[int, str],
    pad: str | None = None,
    unknown: str = "<UNK>",
) -> list[str]:
    """One token per id as the model sees it: <START>, <OOV>, the word.

    Padding (id 0) is skipped, or spelled ``pad`` when given; an id with no word is spelled
    ``unknown`` (``"{}"`` in it is replaced by the id).
    """
    out = []
    for i in map(int, ids):
        if i == PAD_ID:
            if pad is not None:
                out.append(pad)
            continue
        out.append(SPECIAL.get(i) or index_word.get(i) or unknown.format(i))
    return out


def decode_review(
    seq: Sequence[int], word_index: Mapping[str, int], index_from: int = INDEX_FROM
) -> str:
    """Turn ids back into text: 0 (padding) skipped, start -> <START>, oov -> <OOV>."""
    return " ".join(id_words(seq, index_words(word_index, index_from)))


def encode_review(
    text: str,
    word_index: Mapping[str, int],
    num_words: int | None = 10000,
    index_from: int = INDEX_FROM,
    start_char: int | None = START_ID,
    oov_char: int = OOV_ID,
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
    return Ragged.from_lists(sequences).padded(maxlen, padding, truncating, value)


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

"""Word-level text tools for sequence classification and tagging: a
tokenizer, a vocabulary, padding, and batches of similar lengths. They are
the library's own (``seqrnn_tokenize``, ``seqrnn_vocabulary_*``,
``seqrnn_pad_batch``, ``seqrnn_bucket_batches`` in C; ``Tokenizer``,
``Vocabulary``, ``padBatch``, ``bucketBatches`` in Swift), so tokens, ids and
vocabulary files agree across the three languages.

>>> from seqrnn.text import Tokenizer, Vocabulary, pad_batch
>>> tok = Tokenizer()
>>> tok("Don't panic, it's fine!")
["don't", 'panic', ',', "it's", 'fine', '!']
>>> vocab = Vocabulary.build(["the cat sat", "the dog sat down"], tokenizer=tok)
>>> vocab.words
['<pad>', '<unk>', 'sat', 'the', 'cat', 'dog', 'down']
>>> ids, lengths = pad_batch([vocab.encode("the cat"), vocab.encode("a dog sat")])
>>> ids.tolist(), lengths.tolist()
([[3, 4, 0], [1, 5, 2]], [2, 3])

Ids 0 and 1 are reserved: ``<pad>`` (what padding holds; the model ignores
steps past a sequence's length) and ``<unk>`` (every word the vocabulary
does not know). Feed ``ids`` and ``lengths`` to a token model
(``seqrnn.Model(vocab_size=len(vocab), ...)``); :func:`bucket_order` gives
:meth:`seqrnn.Model.fit` batches of similar lengths, which saves the time
spent on padding.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Union

import numpy as np

from . import _seqrnn
from ._inputs import check_int, check_path
from .errors import (
    FormatError,
    InvalidArgumentError,
    OutOfRangeError,
    fail,
)

__all__ = [
    "PAD",
    "PAD_ID",
    "UNK",
    "UNK_ID",
    "WORD_PATTERN",
    "Tokenizer",
    "Vocabulary",
    "bucket_batches",
    "bucket_order",
    "pad_batch",
]

PathLike = Union[str, "os.PathLike[str]"]

#: The padding word and its id (what :func:`pad_batch` fills with).
PAD = "<pad>"
PAD_ID = 0
#: The unknown word and its id (every word the vocabulary does not hold).
UNK = "<unk>"
UNK_ID = 1

#: The default token pattern: a run of letters/digits/underscores, which may
#: continue after an inner apostrophe or hyphen (``don't``, ``well-made``,
#: ``o'clock``), or any other single non-space character (punctuation). The
#: library's built-in tokenizer gives exactly ``re.findall(WORD_PATTERN,
#: text)``, with Python's Unicode ``\w`` and ``\s``.
WORD_PATTERN = r"\w+(?:['\u2019-]\w+)*|[^\w\s]"
#: The whitespace pattern, the library's other built-in rule.
_WHITESPACE_PATTERN = r"\S+"
_BUILT_IN = {
    WORD_PATTERN: _seqrnn.TOKENS_WORDS,
    _WHITESPACE_PATTERN: _seqrnn.TOKENS_WHITESPACE,
}


class Tokenizer:
    """Splits text into word and punctuation tokens (each match of the
    pattern is one token; text between matches, such as spaces, is dropped).

    Args:
        lower: lower-case the text first (default True).
        pattern: the token regex (default :data:`WORD_PATTERN`). Use
            ``r"\\S+"`` to split on whitespace only, e.g. for text that is
            already tokenized. These two run in the library (the same
            tokenizer C and Swift programs use); any other regex runs in
            Python's ``re``, and C and Swift can then only read its
            vocabularies' words, not split text with it.

    >>> Tokenizer()("A well-made film ... 10/10!")
    ['a', 'well-made', 'film', '.', '.', '.', '10', '/', '10', '!']
    >>> Tokenizer(lower=False, pattern=r"\\S+")("Wo n't  stop .")
    ['Wo', "n't", 'stop', '.']
    """

    def __init__(self, lower: bool = True, pattern: str = WORD_PATTERN) -> None:
        if not isinstance(lower, (bool, np.bool_)):
            fail(InvalidArgumentError, f"lower: expected True or False, got {lower!r}")
        if not isinstance(pattern, str) or not pattern:
            fail(
                InvalidArgumentError,
                f"pattern: expected a non-empty regular expression, got {pattern!r}",
            )
        self._regex: re.Pattern[str] | None = None
        if pattern not in _BUILT_IN:
            if "\0" in pattern:
                fail(InvalidArgumentError, "pattern: contains a NUL character")
            try:
                self._regex = re.compile(pattern)
            except re.error as exc:
                fail(InvalidArgumentError, f"pattern: not a valid regex ({exc})")
            if self._regex.match("") is not None:
                fail(
                    InvalidArgumentError,
                    f"pattern: {pattern!r} matches the empty string; every token "
                    "must have at least one character",
                )
        self.lower = bool(lower)
        self.pattern = pattern

    def __call__(self, text: str) -> list[str]:
        """The tokens of ``text``, in order."""
        if not isinstance(text, str):
            fail(
                InvalidArgumentError,
                f"Tokenizer: expected a str, got {type(text).__name__}",
            )
        if self._regex is None:
            return _seqrnn.tokenize(text, self._params())
        if self.lower:
            text = text.lower()
        # finditer, not findall: a pattern with groups still yields whole matches.
        return [m.group(0) for m in self._regex.finditer(text)]

    tokenize = __call__

    @property
    def built_in(self) -> bool:
        """Whether the library runs this tokenizer (:data:`WORD_PATTERN` or
        ``r"\\S+"``), rather than Python's ``re``."""
        return self._regex is None

    def _params(self) -> tuple[int, bool, str | None]:
        """The C API's tokenizer parameters: (rule, lower, pattern)."""
        if self._regex is None:
            return (_BUILT_IN[self.pattern], self.lower, None)
        return (_seqrnn.TOKENS_CUSTOM, self.lower, self.pattern)

    @classmethod
    def _of_params(
        cls, params: tuple[int, bool, str | None] | None
    ) -> Tokenizer | None:
        """The tokenizer of C parameters (None: none)."""
        if params is None:
            return None
        rule, lower, pattern = params
        if rule == _seqrnn.TOKENS_WORDS:
            pattern = WORD_PATTERN
        elif rule == _seqrnn.TOKENS_WHITESPACE:
            pattern = _WHITESPACE_PATTERN
        return cls(lower=bool(lower), pattern=pattern)

    def config(self) -> dict[str, Any]:
        """The settings, as ``Tokenizer(**config)`` takes them."""
        return {"lower": self.lower, "pattern": self.pattern}

    def __repr__(self) -> str:
        return f"Tokenizer(lower={self.lower}, pattern={self.pattern!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tokenizer) and self.config() == other.config()

    __hash__ = None  # type: ignore[assignment]


class Vocabulary:
    """Words and their ids: id 0 is ``<pad>``, id 1 ``<unk>``, then the
    words. Build one from training text with :meth:`build`. The words live
    in the library (``seqrnn_vocabulary``); files are the JSON that C and
    Swift programs read and write too.

    Args:
        words: the word of each id from 2 on (``<pad>`` and ``<unk>`` are
            added in front), all distinct.
        counts: optional training counts of those words (kept for
            inspection and saved with the vocabulary).
        tokenizer: the :class:`Tokenizer` that :meth:`encode` applies to
            strings (None: :meth:`encode` takes token lists only).

    Words the vocabulary does not hold encode to ``<unk>`` (id 1).

    >>> v = Vocabulary(["good", "bad"])
    >>> v.encode(["good", "awful", "bad"]).tolist()
    [2, 1, 3]
    >>> v.decode([2, 1, 3, 0, 0])
    ['good', '<unk>', 'bad']
    """

    def __init__(
        self,
        words: Iterable[str],
        counts: Iterable[int] | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> None:
        if isinstance(words, str):
            fail(
                InvalidArgumentError,
                "words: expected a list of words, got a single string",
            )
        listed = list(words)
        for word in listed:
            if not isinstance(word, str) or not word:
                fail(
                    InvalidArgumentError,
                    f"words: each word must be a non-empty str, got {word!r}",
                )
        count_list = (
            None
            if counts is None
            else [check_int(c, "counts", minimum=0) for c in counts]
        )
        _check_tokenizer(tokenizer, allow_none=True)
        handle = _seqrnn.vocabulary_create(
            listed, count_list, None if tokenizer is None else tokenizer._params()
        )
        self._adopt(handle, tokenizer)

    def _adopt(self, handle: Any, tokenizer: Tokenizer | None) -> None:
        """Takes over a library vocabulary (and the Python tokenizer object,
        which keeps a custom regex compiled)."""
        self._v = handle
        self._words: list[str] = handle.words()
        self.tokenizer = tokenizer

    @classmethod
    def _wrap(cls, handle: Any) -> Vocabulary:
        """A Vocabulary around a library vocabulary, its tokenizer rebuilt."""
        self = cls.__new__(cls)
        try:
            tokenizer = Tokenizer._of_params(handle.tokenizer())
        except InvalidArgumentError as exc:
            fail(FormatError, f"vocabulary: bad contents ({exc.message})")
        self._adopt(handle, tokenizer)
        return self

    @classmethod
    def build(
        cls,
        texts: Iterable[str | Sequence[str]],
        *,
        min_freq: int = 1,
        max_size: int | None = None,
        tokenizer: Tokenizer | None = None,
    ) -> Vocabulary:
        """Counts the tokens of ``texts`` and keeps the frequent ones.

        Args:
            texts: the training texts: strings (split by ``tokenizer``, by
                default ``Tokenizer()``) or lists of tokens.
            min_freq: keep words seen at least this often.
            max_size: at most this many ids in all, the two reserved ones
                included (None: no limit); the most frequent words win.
            tokenizer: splits string texts, and is kept for :meth:`encode`.

        Ids follow frequency (most frequent first), and words of equal
        frequency follow alphabetical (code point) order, so the same
        texts always give the same ids. Build from the training split only:
        words seen only in validation or test data then count as unknown,
        as they would for new text.

        >>> v = Vocabulary.build([["b", "a", "c"], ["a", "c", "d"]], min_freq=2)
        >>> v.words, v.count("a"), v.count("b")
        (['<pad>', '<unk>', 'a', 'c'], 2, 0)
        """
        freq = check_int(min_freq, "min_freq")
        limit = 0 if max_size is None else check_int(max_size, "max_size", minimum=2)
        if isinstance(texts, str):
            fail(
                InvalidArgumentError,
                "texts: expected a list of texts (or token lists), got a single string",
            )
        if tokenizer is None:
            tokenizer = Tokenizer()
        _check_tokenizer(tokenizer, allow_none=False)
        listed = list(texts)
        if tokenizer.built_in and all(isinstance(t, str) for t in listed):
            handle = _seqrnn.vocabulary_build(listed, freq, limit, tokenizer._params())
        else:
            tokens: list[str] = []
            for i, text in enumerate(listed):
                tokens.extend(_tokens_of(text, tokenizer, f"texts[{i}]"))
            handle = _seqrnn.vocabulary_build_from_tokens(
                tokens, freq, limit, tokenizer._params()
            )
        self = cls.__new__(cls)
        self._adopt(handle, tokenizer)
        return self

    # -- lookups ----------------------------------------------------------------

    @property
    def words(self) -> list[str]:
        """The word of each id (a copy)."""
        return list(self._words)

    def __len__(self) -> int:
        """The number of ids, reserved ones included: the model's ``vocab_size``."""
        return len(self._words)

    def __contains__(self, word: object) -> bool:
        return isinstance(word, str) and (word == UNK or self.id(word) != UNK_ID)

    def id(self, word: str) -> int:
        """The id of ``word``, or :data:`UNK_ID` when it is unknown."""
        if not isinstance(word, str) or "\0" in word:
            return UNK_ID  # no word holds a NUL: the library's words are C strings
        return self._v.id(word)

    def word(self, index: int) -> str:
        """The word of id ``index``."""
        i = check_int(index, "index", minimum=0)
        return self._v.word(i)

    def count(self, word: str) -> int:
        """How often :meth:`build` saw ``word`` (0 for unknown and reserved
        words, or when the vocabulary has no counts)."""
        index = self.id(word)
        return 0 if index == UNK_ID else self._v.count(index)[0]

    # -- encoding ---------------------------------------------------------------

    def encode(self, text: str | Sequence[str]) -> np.ndarray:
        """The int32 ids of a text (split by the vocabulary's tokenizer) or
        a list of tokens; unknown words get :data:`UNK_ID`."""
        if isinstance(text, str):
            if self.tokenizer is None:
                fail(
                    InvalidArgumentError,
                    "encode: this vocabulary has no tokenizer; pass a list of tokens "
                    "or build it with tokenizer=...",
                )
            if self.tokenizer.built_in:
                return np.frombuffer(self._v.encode(text), dtype=np.int32)
        tokens = _tokens_of(text, self.tokenizer, "text")
        out = np.empty(len(tokens), dtype=np.int32)
        # Tokens holding a NUL can match no word; the library takes C strings.
        clean = [t if "\0" not in t else UNK for t in tokens]
        self._v.encode_tokens(clean, out)
        return out

    def encode_batch(self, texts: Iterable[str | Sequence[str]]) -> list[np.ndarray]:
        """:meth:`encode` of each text; pad them with :func:`pad_batch`."""
        if isinstance(texts, str):
            fail(
                InvalidArgumentError,
                "texts: expected a list of texts, got a single string (use encode)",
            )
        return [self.encode(t) for t in texts]

    def decode(self, ids: Any, *, skip_pad: bool = True) -> list[str]:
        """The words of ``ids`` (1-D); padding ids are left out unless
        ``skip_pad`` is False."""
        arr = np.asarray(ids)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            fail(
                InvalidArgumentError,
                f"ids: expected a 1-D sequence of integer ids, got {arr.dtype} shaped {arr.shape}",
            )
        bad = np.flatnonzero((arr < 0) | (arr >= len(self._words)))
        if bad.size:  # before narrowing to int32, which could wrap
            i = int(bad[0])
            fail(
                OutOfRangeError,
                f"ids[{i}] = {int(arr[i])} is out of range: ids must be in [0, {len(self._words)})",
            )
        return self._v.decode(np.ascontiguousarray(arr, dtype=np.int32), bool(skip_pad))

    # -- files --------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The vocabulary as JSON-ready data (what :meth:`save` writes)."""
        return json.loads(self._v.to_json())

    @classmethod
    def from_dict(cls, data: Any) -> Vocabulary:
        """The vocabulary of :meth:`to_dict`'s data."""
        try:
            text = json.dumps(data, ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            fail(FormatError, f"vocabulary: bad contents ({exc})")
        return cls._wrap(_seqrnn.vocabulary_from_json(text))

    def save(self, path: PathLike) -> None:
        """Writes the vocabulary (words in id order, counts, tokenizer
        settings) as UTF-8 JSON; the file is replaced atomically."""
        self._v.save(check_path(path))

    @classmethod
    def load(cls, path: PathLike) -> Vocabulary:
        """Reads a vocabulary written by :meth:`save` (or by a C or Swift
        program)."""
        return cls._wrap(_seqrnn.vocabulary_load(check_path(path)))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} ids, tokenizer={self.tokenizer!r})"


def _check_tokenizer(tokenizer: Any, *, allow_none: bool) -> None:
    if tokenizer is None and allow_none:
        return
    if not isinstance(tokenizer, Tokenizer):
        fail(
            InvalidArgumentError,
            f"tokenizer: expected a seqrnn.text.Tokenizer"
            f"{' or None' if allow_none else ''}, got {tokenizer!r}",
        )


def _tokens_of(
    text: str | Sequence[str], tokenizer: Tokenizer | None, name: str
) -> list[str]:
    """A text's tokens: split by tokenizer when it is a str, checked when it
    is already a token list."""
    if isinstance(text, str):
        assert tokenizer is not None
        return tokenizer(text)
    if isinstance(text, (bytes, np.ndarray)) or not isinstance(text, Sequence):
        fail(
            InvalidArgumentError,
            f"{name}: expected a str or a list of str tokens, got {type(text).__name__}",
        )
    for j, token in enumerate(text):
        if not isinstance(token, str):
            fail(
                InvalidArgumentError,
                f"{name}[{j}]: tokens must be str, got {type(token).__name__}",
            )
    return list(text)


def pad_batch(
    sequences: Sequence[Any], *, max_len: int | None = None, pad_id: int = PAD_ID
) -> tuple[np.ndarray, np.ndarray]:
    """Pads id sequences into one array (``seqrnn_pad_batch``).

    Args:
        sequences: 1-D integer sequences (e.g. from :meth:`Vocabulary.encode`),
            each at least one id long (a recurrent model needs a step).
        max_len: keep at most the first ``max_len`` ids of each (None: all).
        pad_id: the value of the padding (the model never reads it).

    Returns ``(ids, lengths)``: int32 ``[batch, time]`` with ``time`` the
    longest (kept) length, and int64 ``[batch]``.

    >>> ids, lengths = pad_batch([[5, 6, 7], [8]], max_len=2)
    >>> ids.tolist(), lengths.tolist()
    ([[5, 6], [8, 0]], [2, 1])
    """
    if isinstance(sequences, (str, bytes)) or not isinstance(
        sequences, (Sequence, np.ndarray)
    ):
        fail(
            InvalidArgumentError,
            f"sequences: expected a list of id sequences, got {type(sequences).__name__}",
        )
    cap = 0 if max_len is None else check_int(max_len, "max_len")
    pad = check_int(pad_id, "pad_id", minimum=0)
    if pad > np.iinfo(np.int32).max:
        fail(OutOfRangeError, f"pad_id: {pad} does not fit an int32 id")
    arrays = []
    for i, seq in enumerate(sequences):
        arr = np.asarray(seq)
        if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
            fail(
                InvalidArgumentError,
                f"sequences[{i}]: expected a 1-D sequence of integer ids, got "
                f"{arr.dtype} shaped {arr.shape}",
            )
        if arr.size and (arr.min() < 0 or arr.max() > np.iinfo(np.int32).max):
            fail(OutOfRangeError, f"sequences[{i}]: ids must be in [0, 2**31)")
        arrays.append(np.ascontiguousarray(arr, dtype=np.int32))
    # The longest kept length, so one library call fills the result (it
    # checks the sequences, empty ones included).
    seq_len = max((a.size if cap == 0 else min(a.size, cap) for a in arrays), default=0)
    ids = np.empty((len(arrays), seq_len), dtype=np.int32)
    lengths = np.empty(len(arrays), dtype=np.int64)
    _seqrnn.pad_batch(arrays, cap, pad, ids, lengths)
    return ids, lengths


def _check_lengths(lengths: Any) -> np.ndarray:
    arr = np.asarray(lengths)
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        fail(
            InvalidArgumentError,
            f"lengths: expected a non-empty 1-D array of integer lengths, got "
            f"{arr.dtype} shaped {arr.shape}",
        )
    if arr.dtype.kind == "u" and arr.size and arr.max() > np.iinfo(np.int64).max:
        fail(OutOfRangeError, "lengths: a length does not fit an int64")
    return np.ascontiguousarray(arr, dtype=np.int64)


def _seed_pair(seed: Any) -> tuple[int, int]:
    """(seed, epoch) of bucket_batches's ``seed`` argument."""
    if seed is None:
        return secrets.randbits(64), 0
    if isinstance(seed, tuple):
        if len(seed) != 2:
            fail(InvalidArgumentError, f"seed: expected (seed, epoch), got {seed!r}")
        return check_int(seed[0], "seed", minimum=0), check_int(
            seed[1], "epoch", minimum=0
        )
    return check_int(seed, "seed", minimum=0), 0


def bucket_batches(
    lengths: Any,
    batch_size: int,
    *,
    shuffle: bool = True,
    seed: Any = None,
    chunk_batches: int = 20,
) -> Iterator[np.ndarray]:
    """Batches of sequence indices whose members have similar lengths, so
    little time is spent on padding (``seqrnn_bucket_batches``).

    With ``shuffle`` (training): the indices are shuffled, cut into chunks
    of ``chunk_batches * batch_size``, each chunk is sorted by length
    (stable) and cut into batches, and the batches come in random order,
    except that the one batch that may be smaller than ``batch_size`` comes
    last. Without ``shuffle`` (prediction): all indices sorted by length,
    batches from shortest to longest.

    Every index ``0 .. len(lengths) - 1`` appears in exactly one batch;
    each batch is an int64 array sorted by length. ``seed`` is an int >= 0,
    a pair ``(seed, epoch)`` (what :func:`bucket_order` passes), or None for
    fresh randomness; the same seed gives the same batches in C, Swift and
    Python.

    >>> [b.tolist() for b in bucket_batches([5, 1, 4, 2, 3], 2, shuffle=False)]
    [[1, 3], [4, 2], [0]]
    """
    lens = _check_lengths(lengths)
    step = check_int(batch_size, "batch_size")
    chunks = check_int(chunk_batches, "chunk_batches")
    base, epoch = _seed_pair(seed) if shuffle else (0, 0)
    order = np.empty(lens.size, dtype=np.int64)
    _seqrnn.bucket_batches(lens, step, bool(shuffle), base, epoch, chunks, order)
    for start in range(0, order.size, step):
        yield order[start : start + step].copy()


def bucket_order(
    lengths: Any, batch_size: int, *, seed: int = 0, chunk_batches: int = 20
) -> Callable[[int], np.ndarray]:
    """Length-bucketed batches for :meth:`seqrnn.Model.fit`: returns a
    function ``order(epoch)`` to pass as ``fit(..., shuffle=order)`` (with
    the same ``batch_size``). Epoch ``e``'s order is the concatenation of
    ``bucket_batches(lengths, batch_size, seed=(seed, e))``, so fit's
    consecutive batches are exactly those buckets, and each epoch has its
    own shuffle, reproducible from ``seed``.

    >>> import numpy as np, seqrnn
    >>> from seqrnn.text import bucket_order, pad_batch
    >>> seqs = [np.arange(1, 2 + i % 7) for i in range(40)]
    >>> ids, lengths = pad_batch(seqs)
    >>> m = seqrnn.Model("gru", vocab_size=9, hidden_size=8, output_size=2, output="last")
    >>> h = m.fit(ids, lengths % 2, lengths, batch_size=8, epochs=2, verbose=0,
    ...           shuffle=bucket_order(lengths, 8, seed=1))
    >>> len(h.history["loss"])
    2
    """
    lens = _check_lengths(lengths).copy()
    step = check_int(batch_size, "batch_size")
    chunks = check_int(chunk_batches, "chunk_batches")
    base = check_int(seed, "seed", minimum=0)

    def order(epoch: int) -> np.ndarray:
        e = check_int(epoch, "epoch", minimum=0)
        out = np.empty(lens.size, dtype=np.int64)
        _seqrnn.bucket_batches(lens, step, True, base, e, chunks, out)
        return out

    return order

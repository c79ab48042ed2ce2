"""seqrnn.text: the tokenizer against hand-split sentences, vocabularies of
small corpora checked by hand (order, min_freq, max_size, unknown words),
encode/decode and save/load round trips, padding, length buckets (every
index once, sorted within batches, reproducible) and fit's custom order."""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import seqrnn
from seqrnn.text import (
    UNK_ID,
    WORD_PATTERN,
    Tokenizer,
    Vocabulary,
    bucket_batches,
    bucket_order,
    pad_batch,
)

CORPUS = [
    "The cat sat on the mat.",
    "The dog sat, the cat ran!",
    "A dog's day",
]


def test_tokenizer_splits_words_and_punctuation():
    tok = Tokenizer()
    assert tok("The cat sat on the mat.") == [
        "the",
        "cat",
        "sat",
        "on",
        "the",
        "mat",
        ".",
    ]
    assert tok("A dog's well-made day... 3.5") == [
        "a", "dog's", "well-made", "day", ".", ".", ".", "3", ".", "5",
    ]  # fmt: skip
    assert tok("  ") == []
    assert Tokenizer(lower=False)("Hi THERE") == ["Hi", "THERE"]
    assert Tokenizer(pattern=r"\S+")("wo n't , ok") == ["wo", "n't", ",", "ok"]
    # A pattern with a group still gives whole matches.
    assert Tokenizer(pattern=r"(a|b)+")("abba c ab") == ["abba", "ab"]


def test_tokenizer_errors():
    with pytest.raises(seqrnn.InvalidArgumentError, match="pattern"):
        Tokenizer(pattern="(")
    with pytest.raises(seqrnn.InvalidArgumentError, match="empty string"):
        Tokenizer(pattern=r"\w*")
    with pytest.raises(seqrnn.InvalidArgumentError, match="lower"):
        Tokenizer(lower="yes")
    with pytest.raises(seqrnn.InvalidArgumentError, match="expected a str"):
        Tokenizer()(b"bytes")


def test_vocabulary_order_by_frequency_then_alphabet():
    # Counts by hand: the 4, cat 2, sat 2, every other token 1.
    v = Vocabulary.build(CORPUS)
    assert v.words == [
        "<pad>", "<unk>",
        "the",                               # 4
        "cat", "sat",                        # 2 each, alphabetical
        "!", ",", ".", "a", "day", "dog", "dog's", "mat", "on", "ran",  # 1 each
    ]  # fmt: skip
    assert len(v) == 15
    assert v.count("the") == 4 and v.count("cat") == 2 and v.count("zebra") == 0
    assert v.id("the") == 2 and v.id("zebra") == UNK_ID
    assert "cat" in v and "zebra" not in v
    assert v.word(0) == "<pad>" and v.word(1) == "<unk>"


def test_min_freq_and_max_size():
    v = Vocabulary.build(CORPUS, min_freq=2)
    assert v.words == ["<pad>", "<unk>", "the", "cat", "sat"]
    assert v.encode("the dog sat").tolist() == [2, UNK_ID, 4]
    v = Vocabulary.build(CORPUS, max_size=4)  # two reserved ids + two words
    assert v.words == ["<pad>", "<unk>", "the", "cat"]
    assert Vocabulary.build(CORPUS, max_size=2).words == ["<pad>", "<unk>"]
    # Token lists are taken as they are (no lower-casing).
    v = Vocabulary.build([["B", "a"], ["a", "<unk>", "<pad>"]])
    assert v.words == ["<pad>", "<unk>", "a", "B"]


def test_same_texts_same_ids():
    a = Vocabulary.build(CORPUS)
    b = Vocabulary.build(list(reversed(CORPUS)))
    assert a.words == b.words


def test_encode_decode_round_trip():
    v = Vocabulary.build(CORPUS)
    ids = v.encode("The cat ran on the mat!")
    assert ids.dtype == np.int32
    assert v.decode(ids) == ["the", "cat", "ran", "on", "the", "mat", "!"]
    assert v.decode(v.encode(["cat", "zebra"])) == ["cat", "<unk>"]
    padded, _ = pad_batch([ids, ids[:2]])
    assert v.decode(padded[1]) == ["the", "cat"]
    assert v.decode(padded[1], skip_pad=False) == ["the", "cat"] + ["<pad>"] * 5
    assert [x.tolist() for x in v.encode_batch(["cat", "dog dog"])] == [
        [v.id("cat")],
        [v.id("dog")] * 2,
    ]


def test_vocabulary_errors():
    with pytest.raises(seqrnn.InvalidArgumentError, match="twice"):
        Vocabulary(["a", "b", "a"])
    with pytest.raises(seqrnn.InvalidArgumentError, match="twice"):
        Vocabulary(["<unk>"])
    with pytest.raises(seqrnn.InvalidArgumentError, match="min_freq"):
        Vocabulary.build(CORPUS, min_freq=0)
    with pytest.raises(seqrnn.InvalidArgumentError, match="max_size"):
        Vocabulary.build(CORPUS, max_size=1)
    with pytest.raises(seqrnn.InvalidArgumentError, match="single string"):
        Vocabulary.build("the cat")
    with pytest.raises(seqrnn.InvalidArgumentError, match="tokens must be str"):
        Vocabulary.build([["a", 3]])
    with pytest.raises(seqrnn.InvalidArgumentError, match="no tokenizer"):
        Vocabulary(["a"]).encode("a")
    v = Vocabulary.build(CORPUS)
    with pytest.raises(seqrnn.OutOfRangeError, match="out of range"):
        v.decode([2, 15])
    with pytest.raises(seqrnn.OutOfRangeError):
        v.word(15)
    with pytest.raises(seqrnn.InvalidArgumentError, match="1-D"):
        v.decode([[1, 2]])


def test_save_load(tmp_path):
    v = Vocabulary.build(CORPUS, min_freq=1, tokenizer=Tokenizer(lower=False))
    path = tmp_path / "vocab.json"
    v.save(path)
    w = Vocabulary.load(path)
    assert w == v and w.words == v.words and w.count("cat") == v.count("cat")
    assert w.tokenizer == Tokenizer(lower=False)
    assert w.encode("The cat").tolist() == v.encode("The cat").tolist()
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["format"] == "seqrnn.vocabulary" and data["words"][:2] == [
        "<pad>",
        "<unk>",
    ]
    # Unicode survives.
    u = Vocabulary(["café", "naïve"])
    u.save(path)
    assert Vocabulary.load(path).words == u.words


def test_load_errors(tmp_path):
    with pytest.raises(seqrnn.FileError):
        Vocabulary.load(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(seqrnn.FormatError):
        Vocabulary.load(bad)
    bad.write_text(json.dumps({"format": "other", "words": []}))
    with pytest.raises(seqrnn.FormatError, match="not a seqrnn vocabulary"):
        Vocabulary.load(bad)
    good = Vocabulary(["a"]).to_dict()
    bad.write_text(json.dumps({**good, "format_version": 99}))
    with pytest.raises(seqrnn.FormatError, match="newer"):
        Vocabulary.load(bad)
    bad.write_text(json.dumps({**good, "words": ["a", "<pad>", "<unk>"]}))
    with pytest.raises(seqrnn.FormatError, match="ids 0 and 1"):
        Vocabulary.load(bad)


def test_pad_batch():
    ids, lengths = pad_batch([[4, 5, 6], [7], np.array([8, 9], dtype=np.int64)])
    assert ids.dtype == np.int32 and lengths.dtype == np.int64
    assert ids.tolist() == [[4, 5, 6], [7, 0, 0], [8, 9, 0]]
    assert lengths.tolist() == [3, 1, 2]
    ids, lengths = pad_batch([[4, 5, 6], [7]], max_len=2, pad_id=3)
    assert ids.tolist() == [[4, 5], [7, 3]] and lengths.tolist() == [2, 1]
    with pytest.raises(seqrnn.ShapeError, match=r"sequences\[1\]: empty"):
        pad_batch([[1], []])
    with pytest.raises(seqrnn.ShapeError, match="empty list"):
        pad_batch([])
    with pytest.raises(seqrnn.InvalidArgumentError, match="integer ids"):
        pad_batch([[1.5]])
    with pytest.raises(seqrnn.OutOfRangeError):
        pad_batch([[1, -2]])
    with pytest.raises(seqrnn.InvalidArgumentError, match="max_len"):
        pad_batch([[1]], max_len=0)


def check_buckets(batches, lengths, batch_size):
    """Every index exactly once; each batch sorted by length; all batches
    full but the last."""
    joined = np.concatenate(batches)
    assert sorted(joined.tolist()) == list(range(len(lengths)))
    for b in batches:
        assert b.dtype == np.int64
        assert np.all(np.diff(lengths[b]) >= 0)
    assert all(b.size == batch_size for b in batches[:-1])
    assert 1 <= batches[-1].size <= batch_size


@pytest.mark.parametrize("n, batch_size, chunk", [(103, 8, 3), (64, 8, 2), (5, 8, 1)])
def test_bucket_batches(n, batch_size, chunk):
    lengths = np.random.default_rng(n).integers(1, 50, size=n)
    batches = list(bucket_batches(lengths, batch_size, seed=1, chunk_batches=chunk))
    check_buckets(batches, lengths, batch_size)
    # Reproducible from the seed, and another seed shuffles differently.
    again = list(bucket_batches(lengths, batch_size, seed=1, chunk_batches=chunk))
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    if n > 2 * batch_size:
        other = list(bucket_batches(lengths, batch_size, seed=2, chunk_batches=chunk))
        assert any(not np.array_equal(a, b) for a, b in zip(batches, other))


def test_buckets_group_similar_lengths():
    # Sorting within chunks makes batches much tighter than random batches.
    lengths = np.random.default_rng(0).integers(1, 60, size=2000)
    spread = [np.ptp(lengths[b]) for b in bucket_batches(lengths, 32, seed=0)]
    random = [np.ptp(lengths[b]) for b in np.array_split(np.arange(2000), 63)]
    assert np.mean(spread) < 0.2 * np.mean(random)


def test_bucket_batches_without_shuffle_sorts_everything():
    lengths = np.array([5, 1, 4, 2, 3, 1])
    batches = list(bucket_batches(lengths, 4, shuffle=False))
    assert [b.tolist() for b in batches] == [[1, 5, 3, 4], [2, 0]]


def test_bucket_errors():
    with pytest.raises(seqrnn.InvalidArgumentError, match="lengths"):
        list(bucket_batches([], 4))
    with pytest.raises(seqrnn.InvalidArgumentError, match="lengths"):
        list(bucket_batches([1.5, 2.0], 4))
    with pytest.raises(seqrnn.InvalidArgumentError, match="batch_size"):
        list(bucket_batches([1, 2], 0))
    with pytest.raises(seqrnn.InvalidArgumentError, match="seed"):
        bucket_order([1, 2], 2, seed=-1)


def test_bucket_order_drives_fit():
    rng = np.random.default_rng(0)
    seqs = [rng.integers(2, 9, size=rng.integers(1, 12)) for _ in range(50)]
    ids, lengths = pad_batch(seqs)
    y = (lengths % 2).astype(np.int64)
    order = bucket_order(lengths, 8, seed=3)
    for epoch in range(3):
        check_buckets(np.array_split(order(epoch), range(8, 50, 8)), lengths, 8)
    assert not np.array_equal(order(0), order(1))
    assert np.array_equal(order(1), bucket_order(lengths, 8, seed=3)(1))

    # fit steps through exactly these batches: a callback sees their sizes,
    # and the result equals training on the reordered data without shuffling.
    def model():
        return seqrnn.Model(
            "gru", vocab_size=9, hidden_size=6, output_size=2, output="last", seed=4
        )

    a, b = model(), model()
    sizes = []
    record = seqrnn.LambdaCallback(
        on_batch_begin=lambda batch, logs: sizes.append(logs["size"])
    )
    a.fit(ids, y, lengths, batch_size=8, epochs=1, lr=1e-2, verbose=0,
          shuffle=order, callbacks=[record])  # fmt: skip
    assert sizes == [8] * 6 + [2]
    p = order(0)
    b.fit(ids[p], y[p], lengths[p], batch_size=8, epochs=1, lr=1e-2, verbose=0,
          shuffle=False)  # fmt: skip
    for name, value in a.state_dict().items():
        np.testing.assert_array_equal(value, b.state_dict()[name])


def test_fit_rejects_a_bad_order():
    ids, lengths = pad_batch([[2, 3], [4], [5, 6, 7]])
    m = seqrnn.Model("gru", vocab_size=9, hidden_size=4, output_size=2, output="last")
    for bad in (lambda e: [0, 1], lambda e: [0, 1, 1], lambda e: [0.0, 1.0, 2.0]):
        with pytest.raises(seqrnn.InvalidArgumentError, match="permutation"):
            m.fit(ids, [0, 1, 0], lengths, verbose=0, shuffle=bad)


# -- the library's tokenizer is Python's re, exactly ---------------------------

DATA = Path(__file__).resolve().parents[3].parent / "shared" / "data"


def reference_tokens(text, lower=True, pattern=WORD_PATTERN):
    """What the pure-Python tokenizer gave: re with finditer semantics."""
    if lower:
        text = text.lower()
    return [m.group(0) for m in re.finditer(pattern, text)]


def corpus_lines():
    files = sorted((DATA / "sst2").glob("*.txt")) + [DATA / "tinyshakespeare.txt"]
    files = [f for f in files if f.is_file()]
    if not files:
        pytest.skip(f"no data sets under {DATA}")
    for f in files:
        yield from f.read_text(encoding="utf-8").splitlines()


def test_tokenizer_equals_re_on_every_corpus_line():
    lines = list(corpus_lines())
    for rule in (Tokenizer(), Tokenizer(lower=False), Tokenizer(pattern=r"\S+")):
        assert rule.built_in
        for line in lines:
            want = reference_tokens(line, rule.lower, rule.pattern)
            assert rule(line) == want, line


TRICKY = [
    "ΟΔΟΣ ΣΟΦΟΣ. Σ ΑΣ' ΑΣ-Β",  # final sigma, also before case-ignorable marks
    "İstanbul ǅemal ẞtraße ﬁne",  # lower-casing that grows or changes length
    "٣٤ ²³ ½ Ⅻ ① 〇 一二三",  # digits and numerics of other scripts
    "o’neil rock'n'roll x--y 'quoted' well-  -made _a_ a_b",
    "tab\tnbsp\u00a0thin\u2009ideo\u3000fs\x1cgs\x1dus\x1f end",
    "zero\u200bwidth joiner\u200d mark\u0301 e\u0301 \u00e9",
    "emoji 😀👍🏽 flag 🇩🇪 cjk 漢字かなカナ 한국어",
    "null\x00byte \x85nel \u2028ls \ufeffbom",
]


@pytest.mark.parametrize("text", TRICKY)
@pytest.mark.parametrize("lower", [True, False])
def test_tokenizer_equals_re_on_tricky_unicode(text, lower):
    for pattern in (WORD_PATTERN, r"\S+"):
        tok = Tokenizer(lower=lower, pattern=pattern)
        assert tok(text) == reference_tokens(text, lower, pattern)


def test_character_classes_of_every_code_point():
    # Each assigned code point c as "c" + "x" + "c", alone between spaces:
    # \w, \s and lower-casing of every character, against Python's own.
    chars = [
        chr(c)
        for c in range(0x110000)
        if not 0xD800 <= c < 0xE000
        and unicodedata.category(chr(c)) != "Cn"
        and not chr(c).isspace()
    ]
    text = " ".join(c + "x" + c for c in chars)
    for lower in (True, False):
        got = Tokenizer(lower=lower)(text)
        want = reference_tokens(text, lower)
        if got != want:
            i = next(k for k, (a, b) in enumerate(zip(got, want)) if a != b)
            pytest.fail(f"lower={lower}: token {i}: {got[i]!r} != {want[i]!r}")
    spaces = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert Tokenizer()("a" + "".join(s + "b" for s in spaces)) == ["a"] + ["b"] * len(
        spaces
    )


def test_vocabulary_equals_counter_on_sst2():
    path = DATA / "sst2" / "train.txt"
    if not path.is_file():
        pytest.skip(f"no {path}")
    texts = [
        line.split(" ", 1)[1] for line in path.read_text(encoding="utf-8").splitlines()
    ]
    counter = Counter(t for text in texts for t in reference_tokens(text))
    ranked = sorted(
        (item for item in counter.items() if item[1] >= 2), key=lambda x: (-x[1], x[0])
    )
    v = Vocabulary.build(texts, min_freq=2)
    assert v.words == ["<pad>", "<unk>"] + [w for w, _ in ranked]
    assert [v.count(w) for w, _ in ranked] == [c for _, c in ranked]
    # Strings and token lists give the same vocabulary.
    assert Vocabulary.build([reference_tokens(t) for t in texts], min_freq=2) == v
    ids = v.encode(texts[0])
    assert ids.tolist() == [v.id(t) for t in reference_tokens(texts[0])]


def test_files_of_the_pure_python_implementation_load(tmp_path):
    # What the pure-Python Vocabulary.save wrote (json.dumps, indent=0).
    old = {
        "format": "seqrnn.vocabulary",
        "format_version": 1,
        "words": ["<pad>", "<unk>", "the", "café", "don't"],
        "counts": [0, 0, 9, 3, 1],
        "tokenizer": {"lower": True, "pattern": WORD_PATTERN},
    }
    path = tmp_path / "old.json"
    path.write_text(json.dumps(old, ensure_ascii=False, indent=0), encoding="utf-8")
    v = Vocabulary.load(path)
    assert v.words == old["words"] and v.count("café") == 3
    assert v.tokenizer == Tokenizer() and v.tokenizer.built_in
    assert v.encode("The CAFÉ, don't!").tolist() == [2, 3, 1, 4, 1]
    assert v.to_dict() == old
    # Escaped non-ASCII (ensure_ascii=True), no counts, no tokenizer.
    path.write_text(json.dumps({**old, "counts": None, "tokenizer": None}))
    w = Vocabulary.load(path)
    assert w.words == old["words"] and w.count("the") == 0 and w.tokenizer is None
    # A custom regex survives a round trip, and still splits text in Python.
    path.write_text(
        json.dumps({**old, "tokenizer": {"lower": False, "pattern": "[a-z]+"}})
    )
    c = Vocabulary.load(path)
    assert c.tokenizer == Tokenizer(lower=False, pattern="[a-z]+")
    assert not c.tokenizer.built_in
    assert c.encode("the Caf the").tolist() == [2, 1, 2]
    c.save(tmp_path / "again.json")
    assert Vocabulary.load(tmp_path / "again.json") == c
    assert Vocabulary.from_dict(c.to_dict()) == c


def test_custom_pattern_vocabulary_builds_in_python():
    tok = Tokenizer(pattern=r"[a-z]+")
    v = Vocabulary.build(["ab1cd ab", "cd!"], tokenizer=tok)
    assert v.words == ["<pad>", "<unk>", "ab", "cd"]
    assert v.encode("AB zz").tolist() == [2, 1]

"""Sampling (Model.generate, seqrnn.generation.Sampler), surprisal and
roc_auc: token frequencies against the exact temperature/top-k/top-p
distribution computed with numpy (a chi-square bound from the sample size),
greedy and top-k 1 equal to the arg-max chain, seeds, batches equal to
one-prime calls, surprisal equal to numpy's log-softmax of predict, roc_auc
equal to a brute-force pair count, and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest

import seqrnn
from seqrnn.generation import Sampler
from seqrnn.metrics import roc_auc


def reference_distribution(logits, temperature=1.0, top_k=0, top_p=1.0):
    """The distribution the documentation describes, in float64."""
    logits = np.asarray(logits, dtype=np.float32).astype(np.float64)
    n = logits.size
    order = np.lexsort((np.arange(n), -logits))  # descending, ties to the lower id
    k = top_k if 0 < top_k < n else n
    w = np.exp((logits[order[:k]] - logits[order[0]]) / temperature)
    kept = k
    if top_p < 1:
        before = np.concatenate([[0.0], np.cumsum(w)[:-1]]) / w.sum()
        kept = max(1, int(np.sum(before < np.float64(np.float32(top_p)))))
    p = np.zeros(n)
    p[order[:kept]] = w[:kept] / w[:kept].sum()
    return p


def chi2_critical(df):
    """The chi-square value exceeded with probability 1e-6 (Wilson-Hilferty;
    4.753 is the standard normal's 1e-6 upper quantile)."""
    a = 2.0 / (9.0 * df)
    return df * (1 - a + 4.753 * math.sqrt(a)) ** 3


def check_counts(counts, p):
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    assert np.all(counts[p == 0] == 0), f"drawn outside the kept set: {counts}, {p}"
    kept = p > 0
    if kept.sum() < 2:
        return
    expected = n * p[kept]
    chi2 = float(((counts[kept] - expected) ** 2 / expected).sum())
    assert chi2 < chi2_critical(int(kept.sum()) - 1), (chi2, counts / n, p)


LOGITS = np.array([2.0, 1.0, 1.0, 0.5, -1.0, 3.0], dtype=np.float32)
SETTINGS = [
    {},
    {"temperature": 0.6},
    {"temperature": 3.0},
    {"top_k": 3},  # keeps ids 5, 0 and 1 (1 and 2 tie: the lower id stays)
    {"top_p": 0.75},  # ids 5 and 0
    {"top_p": 0.8},  # ids 5, 0 and 1
    {"temperature": 1.5, "top_k": 4, "top_p": 0.6},
    {"temperature": 0.8, "top_k": 50, "top_p": 0.95},
]


def test_reference_distribution_by_hand():
    p = reference_distribution(LOGITS, top_k=3)
    assert p[1] > 0 and p[2] == 0 and np.isclose(p.sum(), 1)
    assert np.flatnonzero(reference_distribution(LOGITS, top_p=0.5)).tolist() == [5]
    assert np.flatnonzero(reference_distribution(LOGITS, top_p=0.75)).tolist() == [0, 5]
    assert np.flatnonzero(reference_distribution(LOGITS, top_p=0.8)).tolist() == [
        0,
        1,
        5,
    ]


@pytest.mark.parametrize("settings", SETTINGS)
def test_sampler_frequencies(settings):
    sampler = Sampler(seed=11, **settings)
    draws = sampler.sample(np.tile(LOGITS, (200_000, 1)))
    check_counts(
        np.bincount(draws, minlength=6), reference_distribution(LOGITS, **settings)
    )


def constant_lm(logits, cell="gru"):
    """A language model whose logits are `logits` at every step."""
    v = len(logits)
    model = seqrnn.Model(cell, vocab_size=v, hidden_size=4, output_size=v, seed=0)
    model.load_state_dict(
        {"head.weight": np.zeros((v, 4)), "head.bias": np.asarray(logits)}, strict=False
    )
    return model


@pytest.mark.parametrize("settings", SETTINGS[::2] + [{"top_k": 3}])
def test_generate_frequencies(settings):
    """The whole path: primes, streaming, per-sequence generators."""
    model = constant_lm(LOGITS)
    primes = [[i % 6] * (1 + i % 3) for i in range(40)]
    out = np.array(model.generate(primes, 2500, seed=3, **settings))
    assert out.shape == (40, 2500)
    check_counts(
        np.bincount(out.ravel(), minlength=6),
        reference_distribution(LOGITS, **settings),
    )


def random_lm(cell="lstm", v=11, seed=5):
    model = seqrnn.Model(
        cell, vocab_size=v, hidden_size=12, num_layers=2, output_size=v, seed=seed
    )
    rng = np.random.default_rng(seed)
    model.load_state_dict(
        {k: rng.normal(scale=0.8, size=w.shape) for k, w in model.state_dict().items()}
    )
    return model


def argmax_chain(model, prime, n):
    seq = list(prime)
    for _ in range(n):
        seq.append(int(np.argmax(model.predict([seq])[0, -1])))
    return seq[len(prime) :]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_greedy_and_top_1_are_the_argmax_chain(cell):
    model = random_lm(cell)
    prime = [3, 1, 4, 1]
    chain = argmax_chain(model, prime, 15)
    assert model.generate(prime, 15, greedy=True) == chain
    assert model.generate(prime, 15, temperature=0) == chain
    assert model.generate(prime, 15, top_k=1, seed=9) == chain
    assert model.generate(prime, 15, top_p=1e-6, seed=9) == chain
    assert model.generate([prime, [2]], 15, greedy=True) == [
        chain,
        argmax_chain(model, [2], 15),
    ]


def test_ties_go_to_the_lower_id():
    model = constant_lm([0.0, 2.0, 2.0, 1.0])
    assert model.generate([0], 20, greedy=True) == [1] * 20
    assert model.generate([0], 20, top_k=1, seed=4) == [1] * 20
    assert Sampler(greedy=True).sample([[5.0, 5.0, 5.0]]).tolist() == [0]


def test_seeds_are_reproducible():
    model = random_lm("gru")
    a = model.generate([1, 2], 60, seed=123, top_p=0.9)
    assert a == model.generate(np.array([1, 2]), 60, seed=123, top_p=0.9)
    assert a != model.generate([1, 2], 60, seed=124, top_p=0.9)
    assert all(isinstance(t, int) for t in a)
    # seed None is random: two calls differ (chance of equality ~ 11^-60)
    assert model.generate([1], 60, temperature=2.0) != model.generate(
        [1], 60, temperature=2.0
    )
    s1, s2 = Sampler(seed=5), Sampler(seed=5)
    rows = np.tile(LOGITS, (50, 1))
    assert s1.sample(rows).tolist() == [int(s2.sample(r)[0]) for r in rows]


def test_batch_rows_equal_one_prime_calls():
    model = random_lm("lstm")
    primes = [[1, 2, 3, 4, 5], [6], [7, 8], [0, 0, 0]]
    settings = {"temperature": 0.9, "top_k": 6, "top_p": 0.95}
    batch = model.generate(primes, 40, seed=2**64 - 2, **settings)  # seeds wrap
    seeds = [2**64 - 2, 2**64 - 1, 0, 1]
    for prime, row, seed in zip(primes, batch, seeds):
        assert model.generate(prime, 40, seed=seed, **settings) == row
    equal = np.array([[1, 2], [3, 4]])
    assert model.generate(equal, 5, seed=1) == model.generate(
        [[1, 2], [3, 4]], 5, seed=1
    )
    assert model.generate(primes, 0) == [[], [], [], []]
    assert model.generate((1, 2), 3, seed=0) == model.generate([1, 2], 3, seed=0)


def test_sampler_on_a_stream_draws_what_generate_draws():
    model = random_lm("gru")
    prime = [4, 2, 9]
    want = model.generate(prime, 30, seed=77, top_k=5)
    sampler = Sampler(seed=77, top_k=5)
    got = []
    with model.stream() as stream:
        for token in prime:
            logits = stream.step([token])
        for _ in range(30):
            got.append(int(sampler.sample(logits)[0]))
            logits = stream.step([got[-1]])
    assert got == want


def test_last_output_models_generate_too():
    model = seqrnn.Model(
        "gru", vocab_size=7, hidden_size=8, output_size=7, output="last", seed=2
    )
    chain = []
    seq = [1, 2]
    for _ in range(6):
        chain.append(int(np.argmax(model.predict([seq])[0])))
        seq.append(chain[-1])
    assert model.generate([1, 2], 6, greedy=True) == chain


# -- surprisal ----------------------------------------------------------------------


def log_softmax(z):
    z = z.astype(np.float64)
    top = z.max(axis=-1, keepdims=True)
    return z - top - np.log(np.exp(z - top).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_surprisal_is_the_log_softmax_of_predict(cell):
    model = random_lm(cell)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 11, size=(5, 9))
    y = rng.integers(0, 11, size=(5, 9))
    lengths = np.array([9, 4, 1, 7, 9])
    got = model.surprisal(x, y, lengths=lengths)
    assert got.shape == (5, 9) and got.dtype == np.float32
    logp = log_softmax(model.predict(x, lengths=lengths))
    want = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    valid = np.arange(9)[None, :] < lengths[:, None]
    np.testing.assert_allclose(got[valid], want[valid], rtol=1e-5, atol=1e-6)
    assert np.all(got[~valid] == 0)
    loss = model.evaluate(x, y, lengths=lengths)["loss"]
    assert math.isclose(got.sum() / lengths.sum(), loss, rel_tol=1e-5)
    # ragged lists give the same, and more than one chunk of sequences works
    ragged = model.surprisal(
        [list(r[:n]) for r, n in zip(x, lengths)],
        [list(r[:n]) for r, n in zip(y, lengths)],
    )
    np.testing.assert_array_equal(ragged, got)
    many = model.surprisal(np.tile(x, (70, 1)), np.tile(y, (70, 1)))
    np.testing.assert_array_equal(many[-5:], model.surprisal(x, y))


def test_surprisal_errors():
    model = random_lm("gru")
    with pytest.raises(seqrnn.OutOfRangeError, match="y"):
        model.surprisal([[1, 2]], [[1, 11]])
    with pytest.raises(seqrnn.ShapeError):
        model.surprisal(np.array([[1, 2]]), np.array([[1, 2, 3]]))
    with pytest.raises(seqrnn.InvalidArgumentError):
        model.surprisal([[1, 2]], [[0.5, 1]])
    last = seqrnn.Model(
        "gru", vocab_size=4, hidden_size=4, output_size=4, output="last"
    )
    with pytest.raises(seqrnn.UnsupportedError, match="output='sequence'"):
        last.surprisal([[1, 2]], [1])
    mse = seqrnn.Model("gru", input_size=2, hidden_size=4, output_size=1, loss="mse")
    with pytest.raises(seqrnn.UnsupportedError):
        mse.surprisal(np.zeros((1, 2, 2)), np.zeros((1, 2, 1)))
    model.close()
    with pytest.raises(seqrnn.InvalidArgumentError, match="closed"):
        model.surprisal([[1, 2]], [[1, 2]])


# -- roc_auc ------------------------------------------------------------------------


def brute_force_auc(scores, labels):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def test_roc_auc_equals_the_pair_count():
    rng = np.random.default_rng(0)
    for trial in range(30):
        n = int(rng.integers(2, 80))
        scores = rng.integers(0, 6, size=n).astype(float)  # many ties
        if trial % 2:
            scores = rng.normal(size=n)
        labels = rng.integers(0, 2, size=n)
        labels[0], labels[1] = 0, 1
        assert math.isclose(
            roc_auc(scores, labels), brute_force_auc(scores, labels), rel_tol=1e-12
        )
    assert roc_auc([3, 2, 1], [True, False, False]) == 1.0
    assert roc_auc([1, 2, 3], [1, 0, 0]) == 0.0
    assert roc_auc([5, 5, 5, 5], [0, 1, 0, 1]) == 0.5


def test_roc_auc_errors():
    with pytest.raises(seqrnn.InvalidArgumentError, match="both classes"):
        roc_auc([1, 2], [1, 1])
    with pytest.raises(seqrnn.ShapeError):
        roc_auc([1, 2, 3], [0, 1])
    with pytest.raises(seqrnn.InvalidArgumentError, match="0 and 1"):
        roc_auc([1, 2], [0, 2])
    with pytest.raises(seqrnn.InvalidArgumentError, match="finite"):
        roc_auc([1, float("nan")], [0, 1])
    with pytest.raises(seqrnn.InvalidArgumentError, match="labels"):
        roc_auc([1, 2], ["a", "b"])


# -- bad sampling input -------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "cls", "fragment"),
    [
        ({"temperature": float("nan")}, seqrnn.InvalidArgumentError, "temperature"),
        ({"temperature": -0.1}, seqrnn.InvalidArgumentError, "temperature"),
        ({"temperature": "hot"}, seqrnn.InvalidArgumentError, "temperature"),
        ({"top_k": -1}, seqrnn.InvalidArgumentError, "top_k"),
        ({"top_k": 1.5}, seqrnn.InvalidArgumentError, "top_k"),
        ({"top_p": 0.0}, seqrnn.InvalidArgumentError, "top_p"),
        ({"top_p": 1.01}, seqrnn.InvalidArgumentError, "top_p"),
        ({"top_p": float("nan")}, seqrnn.InvalidArgumentError, "top_p"),
        ({"greedy": 2}, seqrnn.InvalidArgumentError, "greedy"),
        ({"seed": -1}, seqrnn.InvalidArgumentError, "seed"),
        ({"seed": 2**64}, seqrnn.InvalidArgumentError, "seed"),
    ],
)
def test_bad_settings(kwargs, cls, fragment):
    model = constant_lm(LOGITS)
    with pytest.raises(cls, match=fragment):
        model.generate([1], 3, **kwargs)
    with pytest.raises(cls, match=fragment):
        Sampler(**kwargs)


def test_bad_logits_and_primes():
    sampler = Sampler(seed=0)
    with pytest.raises(seqrnn.NonFiniteError, match=r"logits\[1\]\[2\]"):
        sampler.sample([[0.0, 1.0, 2.0], [0.0, 1.0, float("nan")]])
    with pytest.raises(seqrnn.NonFiniteError):
        sampler.sample([0.0, float("inf")])
    for bad in ([], [[]], np.zeros((2, 2, 2))):
        with pytest.raises(seqrnn.ShapeError, match="logits"):
            sampler.sample(bad)
    model = constant_lm(LOGITS)
    cases = [
        ([], seqrnn.ShapeError, "prime"),
        ([[1], []], seqrnn.ShapeError, r"prime\[1\]"),
        ([[1], [6]], seqrnn.OutOfRangeError, r"prime: token id 6 at \[1, 0\]"),
        ([[1], [-1]], seqrnn.OutOfRangeError, "prime"),
        ([[1], 2], seqrnn.ShapeError, "mixture"),
        (np.zeros((1, 1, 1), dtype=int), seqrnn.ShapeError, "prime"),
        ("ab", seqrnn.InvalidArgumentError, "string"),
    ]
    for prime, cls, fragment in cases:
        with pytest.raises(cls, match=fragment):
            model.generate(prime, 2)
    with pytest.raises(seqrnn.InvalidArgumentError, match="n:"):
        model.generate([1], -1)

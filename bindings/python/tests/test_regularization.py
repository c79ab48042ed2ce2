"""Dropout, zoneout, initialisers, loss weights and truncated BPTT from
Python: settings round-trip, inference ignores dropout, seeded determinism,
weighted losses against numpy, and stateful training against a full pass."""

from __future__ import annotations

import numpy as np
import pytest

import seqrnn
from seqrnn import _seqrnn
from seqrnn.streams import _layout


def token_model(**extra):
    return seqrnn.Model(
        "lstm",
        vocab_size=7,
        hidden_size=6,
        num_layers=2,
        output_size=7,
        seed=2,
        **extra,
    )


def test_settings_round_trip(tmp_path):
    m = token_model(
        dropout=0.3,
        head_dropout=0.1,
        recurrent_dropout=0.2,
        zoneout=0.05,
        init="orthogonal",
        forget_bias_one=True,
    )
    assert m.config["dropout"] == 0.3 and m.config["init"] == "orthogonal"
    path = tmp_path / "m.safetensors"
    m.save(path)
    assert seqrnn.load(path).config == m.config
    assert seqrnn.Model(**m.config).config == m.config
    bias = m.state_dict()["rnn.bias_ih_l0"]
    assert np.all(bias[6:12] == 1) and np.all(bias[:6] == 0)
    w = m.state_dict()["rnn.weight_hh_l1"][:6].astype(np.float64)
    np.testing.assert_allclose(w @ w.T, np.eye(6), atol=1e-5)


@pytest.mark.parametrize("bad", [-0.1, 1.0, "0.5", float("nan")])
def test_bad_rates(bad):
    with pytest.raises(seqrnn.InvalidArgumentError):
        token_model(dropout=bad)
    with pytest.raises(seqrnn.InvalidArgumentError):
        token_model(init="he")


def test_inference_ignores_dropout():
    plain = token_model()
    dropped = token_model(dropout=0.5, recurrent_dropout=0.5, head_dropout=0.5)
    dropped.load_state_dict(plain.state_dict())
    x = np.arange(20).reshape(2, 10) % 7
    np.testing.assert_array_equal(plain.predict(x), dropped.predict(x))


def train(seed: int) -> dict[str, np.ndarray]:
    m = token_model(dropout=0.3, recurrent_dropout=0.3, zoneout=0.2)
    x = np.arange(48).reshape(6, 8) % 7
    m.fit(x, (x + 1) % 7, epochs=3, batch_size=3, lr=0.01, verbose=0, seed=seed)
    return m.state_dict()


def test_dropout_training_is_seeded():
    a, b, c = train(1), train(1), train(2)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def test_sample_weight_is_a_weighted_mean():
    m = token_model()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 7, size=(5, 6))
    y = rng.integers(0, 7, size=(5, 6))
    w = rng.uniform(0, 2, size=(5, 6))
    w[0, :] = 0
    losses = -np.take_along_axis(log_softmax(m.predict(x)), y[..., None], -1)[..., 0]
    expected = (w * losses).sum() / w.sum()
    got = m.evaluate(x, y, sample_weight=w, batch_size=2)
    assert got["loss"] == pytest.approx(expected, rel=1e-5)
    with pytest.raises(seqrnn.ShapeError):
        m.evaluate(x, y, sample_weight=w[:, :3])
    with pytest.raises(seqrnn.InvalidArgumentError):
        m.evaluate(x, y, sample_weight=-w)
    with pytest.raises(seqrnn.NonFiniteError):
        m.evaluate(x, y, sample_weight=np.full_like(w, np.nan))
    with pytest.raises(seqrnn.InvalidArgumentError):
        m.evaluate(x, y, sample_weight=np.zeros_like(w))
    # fit accepts them too, and a zero weight keeps a position from training.
    history = m.fit(x, y, epochs=2, verbose=0, sample_weight=w)
    assert len(history.history["loss"]) == 2


def test_stateful_trainer_carries_states_exactly():
    m = token_model()
    handle = m._model()
    trainer = _seqrnn.Trainer(
        handle,
        optimizer=1,
        learning_rate=1e-3,
        momentum=0.0,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        clip_norm=0.0,
        stateful=True,
    )
    rng = np.random.default_rng(1)
    x = rng.integers(0, 7, size=(2, 10)).astype(np.int32)
    for part in (slice(0, 5), slice(5, 10)):
        chunk = np.ascontiguousarray(x[:, part])
        trainer.compute_gradients(
            batch_size=2, seq_len=5, tokens=chunk, target_classes=chunk
        )
    h = np.empty((2, 2, 6), np.float32)
    c = np.empty((2, 2, 6), np.float32)
    trainer.get_state(h, c)
    _, (full_h, full_c) = m.predict(x, return_state=True)
    np.testing.assert_allclose(h, full_h, atol=1e-5)
    np.testing.assert_allclose(c, full_c, atol=1e-5)
    trainer.reset_state([False, True])
    trainer.get_state(h, c)
    assert np.all(h[:, 1] == 0) and np.all(c[:, 1] == 0)
    np.testing.assert_allclose(h[:, 0], full_h[:, 0], atol=1e-5)
    with pytest.raises(seqrnn.ShapeError):
        trainer.reset_state([True])
    trainer.reset_state()
    trainer.get_state(h, c)
    assert not h.any()
    trainer.close()


def test_documents_start_on_chunk_boundaries():
    docs = [np.arange(12) % 7, np.arange(5) % 7, np.arange(9) % 7]
    layout = _layout([d.astype(np.int32) for d in docs], batch_size=2, seq_len=4)
    # Stream 0 holds the 12-token document (11 positions, 3 chunks), stream 1
    # the 9-token one (8 positions, 2 chunks) then the 5-token one (1 chunk).
    assert layout.inputs.shape == (2, 12)
    assert layout.weights[0].tolist() == [1] * 11 + [0]
    assert layout.weights[1].tolist() == [1] * 8 + [1] * 4
    assert [s.tolist() for s in layout.starts] == [
        [True, True],
        [False, False],
        [False, True],
    ]
    np.testing.assert_array_equal(layout.targets[1, 8:12], (np.arange(1, 5) % 7))


def test_fit_stream_learns_a_cycle():
    lm = seqrnn.Model("gru", vocab_size=5, hidden_size=16, output_size=5, seed=1)
    stream = np.arange(400) % 5
    history = lm.fit_stream(
        stream, seq_len=10, batch_size=4, epochs=6, lr=0.05, verbose=0
    )
    assert history.history["perplexity"][-1] < 1.2 < history.history["perplexity"][0]
    with pytest.raises(seqrnn.InvalidArgumentError):
        seqrnn.Model("gru", vocab_size=5, hidden_size=4, output_size=2).fit_stream(
            stream, seq_len=5
        )

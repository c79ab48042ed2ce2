"""seqrnn's forward pass equals an independent float64 numpy implementation
of PyTorch's equations (tests/reference.py) fed the model's state_dict().

Tolerance: the library computes in float32 (unit roundoff 6e-8) and the
reference in float64. With these sizes (hidden 5, up to 7 steps, 2 layers,
2 directions) each output is the end of a few hundred float32 multiply-adds
through contractive nonlinearities, so the expected error is a few 1e-7 in
absolute terms on values of order 1; the measured worst case is about 1e-6.
We allow rtol = atol = 1e-5 (ten times that), while any mistake in the
equations (a swapped gate, a missing bias, the reverse direction starting at
the padded end, a state not frozen past a length) moves outputs by 1e-2 or
more -- test_reference_detects_wrong_gate_order checks that such a mistake
fails by a wide margin.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference

import seqrnn

RTOL = ATOL = 1e-5
B, T, I, H, V, O = 4, 7, 3, 5, 9, 4
LENGTHS = np.array([7, 3, 1, 5])

CELLS = ["rnn", "rnn_relu", "lstm", "gru"]
CASES = list(
    itertools.product(CELLS, [1, 2], [False, True], [False, True], ["sequence", "last"])
)


def case_id(case):
    cell, layers, bidir, tokens, output = case
    return f"{cell}-L{layers}-{'bi' if bidir else 'uni'}-{'tok' if tokens else 'feat'}-{output}"


def make_model(
    cell, layers, bidir, tokens, output, loss="cross_entropy", seed=0, scale=0.8
):
    kwargs = {"vocab_size": V, "input_size": 6} if tokens else {"input_size": I}
    model = seqrnn.Model(
        cell,
        hidden_size=H,
        num_layers=layers,
        bidirectional=bidir,
        output_size=O,
        output=output,
        loss=loss,
        seed=seed,
        **kwargs,
    )
    # Larger-than-default random weights, so gates saturate and every term matters.
    rng = np.random.default_rng(seed + 1000)
    sd = {
        k: rng.uniform(-scale, scale, size=v.shape)
        for k, v in model.state_dict().items()
    }
    model.load_state_dict(sd)
    return model


def make_inputs(tokens, seed=0, batch=B, time=T):
    rng = np.random.default_rng(seed)
    if tokens:
        return rng.integers(0, V, size=(batch, time))
    return rng.normal(size=(batch, time, I))


def run_reference(model, x, lengths=None, h0=None, c0=None):
    return reference.forward(
        model.state_dict(),
        cell=model.cell,
        num_layers=model.num_layers,
        bidirectional=model.bidirectional,
        output=model.output,
        x=x,
        tokens=model.vocab_size is not None,
        lengths=lengths,
        h0=h0,
        c0=c0,
    )


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_forward_matches_reference(case):
    cell, layers, bidir, tokens, output = case
    model = make_model(*case, seed=CASES.index(case))
    x = make_inputs(tokens, seed=CASES.index(case))
    out, state = model.predict(x, LENGTHS, return_state=True)
    ref_out, ref_h, ref_c = run_reference(model, x, LENGTHS)
    assert out.dtype == np.float32
    assert out.shape == ((B, T, O) if output == "sequence" else (B, O))
    np.testing.assert_allclose(out, ref_out, rtol=RTOL, atol=ATOL)
    if output == "sequence":
        # steps past each length are exactly zero
        for b, n in enumerate(LENGTHS):
            assert not out[b, n:].any()
    if cell == "lstm":
        h, c = state
        np.testing.assert_allclose(c, ref_c, rtol=RTOL, atol=ATOL)
    else:
        h = state
    assert h.shape == (layers * (2 if bidir else 1), B, H)
    np.testing.assert_allclose(h, ref_h, rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("cell", CELLS)
def test_full_length_and_initial_state_match_reference(cell):
    model = make_model(cell, 2, True, False, "sequence", seed=7)
    x = make_inputs(False, seed=3)
    rng = np.random.default_rng(5)
    h0 = rng.normal(size=(4, B, H))
    c0 = rng.normal(size=(4, B, H)) if cell == "lstm" else None
    initial = (h0, c0) if cell == "lstm" else h0
    out, state = model.predict(x, initial_state=initial, return_state=True)
    ref_out, ref_h, ref_c = run_reference(model, x, None, h0, c0)
    np.testing.assert_allclose(out, ref_out, rtol=RTOL, atol=ATOL)
    h = state[0] if cell == "lstm" else state
    np.testing.assert_allclose(h, ref_h, rtol=RTOL, atol=ATOL)
    if cell == "lstm":
        np.testing.assert_allclose(state[1], ref_c, rtol=RTOL, atol=ATOL)
    # and the initial state really is used
    plain = model.predict(x)
    assert np.abs(plain - out).max() > 1e-3


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("tokens", [False, True], ids=["feat", "tok"])
def test_stream_matches_reference(cell, tokens):
    model = make_model(cell, 2, False, tokens, "sequence", seed=11)
    x = make_inputs(tokens, seed=12, batch=2)
    ref_out, ref_h, ref_c = run_reference(model, x)
    with model.stream(batch_size=2) as s:
        for t in range(T):
            step = s.step(x[:, t])
            np.testing.assert_allclose(step, ref_out[:, t], rtol=RTOL, atol=ATOL)
        np.testing.assert_allclose(s.hidden, ref_h, rtol=RTOL, atol=ATOL)
        if cell == "lstm":
            np.testing.assert_allclose(s.cell, ref_c, rtol=RTOL, atol=ATOL)


def test_stream_of_last_model_gives_output_as_if_sequence_ended():
    model = make_model("gru", 1, False, False, "last", seed=2)
    x = make_inputs(False, seed=2, batch=1)
    with model.stream() as s:
        for t in range(T):
            out = s.step(x[0, t])  # unbatched in, unbatched out
            assert out.shape == (O,)
            ref, _, _ = run_reference(model, x[:, : t + 1])
            np.testing.assert_allclose(out, ref[0], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize("output", ["sequence", "last"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_evaluate_matches_reference_loss(output, loss):
    model = make_model("lstm", 1, True, True, output, loss=loss, seed=4)
    x = make_inputs(True, seed=4)
    rng = np.random.default_rng(9)
    if loss == "cross_entropy":
        y = rng.integers(0, O, size=(B, T) if output == "sequence" else (B,))
    else:
        y = rng.normal(size=(B, T, O) if output == "sequence" else (B, O))
    got = model.evaluate(x, y, LENGTHS, batch_size=3)  # two batches, combined
    ref_out, _, _ = run_reference(model, x, LENGTHS)
    if loss == "cross_entropy":
        ref_loss, ref_acc = reference.cross_entropy(ref_out, y, output, LENGTHS)
        assert got["accuracy"] == pytest.approx(ref_acc, abs=1e-12)
    else:
        ref_loss = reference.mse(ref_out, y, output, LENGTHS)
        assert "accuracy" not in got
    assert got["loss"] == pytest.approx(ref_loss, rel=1e-5, abs=1e-6)


def test_reference_detects_wrong_gate_order():
    """The comparison is sensitive: the same model with the LSTM's i and f
    gates swapped in the reference's weights misses by far more than the
    tolerance."""
    model = make_model("lstm", 1, False, False, "sequence", seed=1)
    x = make_inputs(False, seed=1)
    out = model.predict(x)
    sd = model.state_dict()
    for name in (
        "rnn.weight_ih_l0",
        "rnn.weight_hh_l0",
        "rnn.bias_ih_l0",
        "rnn.bias_hh_l0",
    ):
        w = sd[name].copy()
        w[:H], w[H : 2 * H] = sd[name][H : 2 * H], sd[name][:H]
        sd[name] = w
    wrong, _, _ = reference.forward(
        sd,
        cell="lstm",
        num_layers=1,
        bidirectional=False,
        output="sequence",
        x=x,
        tokens=False,
    )
    assert np.abs(out - wrong).max() > 100 * ATOL
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(out, wrong, rtol=RTOL, atol=ATOL)


def test_batching_does_not_change_results():
    model = make_model("gru", 2, True, False, "sequence", seed=5)
    x = make_inputs(False, seed=5, batch=10)
    lengths = np.array([7, 1, 3, 2, 7, 6, 5, 4, 3, 2])
    whole = model.predict(x, lengths)
    for bs in (1, 3, 4):
        np.testing.assert_allclose(
            model.predict(x, lengths, batch_size=bs), whole, rtol=1e-6, atol=1e-6
        )


def test_lists_float64_and_noncontiguous_inputs_are_equivalent():
    model = make_model("lstm", 1, False, False, "sequence", seed=6)
    x = make_inputs(False, seed=6)  # float64
    x32 = x.astype(np.float32)
    base = model.predict(x32, LENGTHS)
    np.testing.assert_array_equal(model.predict(x, LENGTHS), base)
    fortran = np.asfortranarray(x)
    assert not fortran.flags.c_contiguous
    np.testing.assert_array_equal(model.predict(fortran, LENGTHS), base)
    strided = np.concatenate([x32, x32], axis=2)[:, :, ::2][:, :, :I]
    strided = np.repeat(x32, 2, axis=1)[:, ::2]
    assert not strided.flags.c_contiguous
    np.testing.assert_array_equal(model.predict(strided, LENGTHS), base)
    ragged = [x[b, : LENGTHS[b]] for b in range(B)]
    np.testing.assert_array_equal(model.predict(ragged), base)
    nested = [x[b, : LENGTHS[b]].tolist() for b in range(B)]
    np.testing.assert_allclose(model.predict(nested), base, rtol=0, atol=0)
    # padding past a length is ignored, whatever it holds
    noisy = x.copy()
    for b in range(B):
        noisy[b, LENGTHS[b] :] = np.nan
    np.testing.assert_array_equal(model.predict(noisy, LENGTHS), base)


def test_token_lists_equal_padded_arrays():
    model = make_model("gru", 1, True, True, "last", seed=8)
    seqs = [[1, 2, 3], [4], [5, 6, 7, 8, 0]]
    padded = np.zeros((3, 5), dtype=np.int64)
    for i, s in enumerate(seqs):
        padded[i, : len(s)] = s
    lengths = [len(s) for s in seqs]
    np.testing.assert_array_equal(model.predict(seqs), model.predict(padded, lengths))
    ref, _, _ = run_reference(model, padded, np.array(lengths))
    np.testing.assert_allclose(model.predict(seqs), ref, rtol=RTOL, atol=ATOL)
    # padding ids past a length are ignored, even out-of-range ones
    padded[1, 1:] = -1
    np.testing.assert_array_equal(model.predict(padded, lengths), model.predict(seqs))


def test_predict_proba_is_softmax_of_logits():
    model = make_model("rnn", 1, False, True, "sequence", seed=9)
    seqs = [[1, 2, 3], [4]]
    logits = model.predict(seqs)
    p = model.predict_proba(seqs)
    e = np.exp(logits[0] - logits[0].max(axis=-1, keepdims=True))
    np.testing.assert_allclose(p[0], e / e.sum(axis=-1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(p[1, 0].sum(), 1.0, rtol=1e-6)
    assert not p[1, 1:].any()

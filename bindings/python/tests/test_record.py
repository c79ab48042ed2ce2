"""Model.record (a look inside): the recorded hidden states, LSTM cell states
and gates of every layer equal an independent float64 numpy recording of
PyTorch's equations, itself checked against tests/reference.py; the last
recorded step equals predict()'s final state; bidirectional halves, padding,
sub-batching, initial states, the extension call and every bad input.

Tolerance as in test_forward_reference.py: float32 library against a float64
reference, errors ~1e-6, bugs >= 1e-2, so rtol = atol = 1e-5.
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import reference

import seqrnn
from seqrnn import _seqrnn

RTOL = ATOL = 1e-5
B, T, I, H, V = 4, 7, 3, 5, 9
LENGTHS = np.array([7, 3, 1, 5])
CELLS = ["rnn", "rnn_relu", "lstm", "gru"]
GATES = {"lstm": 4, "gru": 3, "rnn": 0, "rnn_relu": 0}
# PyTorch's gate order, written out here (not taken from seqrnn) so a wrong
# order in the library's names fails.
GATE_NAMES = {
    "lstm": ["input", "forget", "cell", "output"],
    "gru": ["reset", "update", "new"],
    "rnn": [],
    "rnn_relu": [],
}


def record_reference(
    sd, *, cell, num_layers, bidirectional, x, tokens, lengths, h0, c0, layer
):
    """Every step of layer ``layer``: hidden and cell [B, T, D*H], gates
    [B, T, D, G, H] (activated, PyTorch's order), zeros past each length."""
    sd = {k: np.asarray(v, dtype=np.float64) for k, v in sd.items()}
    seq = sd["embedding.weight"][np.asarray(x)] if tokens else np.asarray(x, np.float64)
    Bn, Tn = seq.shape[0], seq.shape[1]
    D = 2 if bidirectional else 1
    Hn = sd["rnn.weight_hh_l0"].shape[1]
    G = GATES[cell]
    s = reference.sigmoid
    hidden = np.zeros((Bn, Tn, D * Hn))
    cells = np.zeros((Bn, Tn, D * Hn))
    gates = np.zeros((Bn, Tn, D, G, Hn))
    layer_in = seq
    for k in range(layer + 1):
        layer_out = np.zeros((Bn, Tn, D * Hn))
        for d in range(D):
            suffix = f"_l{k}" + ("_reverse" if d else "")
            W_ih, W_hh = sd["rnn.weight_ih" + suffix], sd["rnn.weight_hh" + suffix]
            b_ih, b_hh = sd["rnn.bias_ih" + suffix], sd["rnn.bias_hh" + suffix]
            for b in range(Bn):
                h = (
                    np.zeros(Hn)
                    if h0 is None
                    else np.asarray(h0[k * D + d, b], np.float64)
                )
                c = (
                    np.zeros(Hn)
                    if c0 is None
                    else np.asarray(c0[k * D + d, b], np.float64)
                )
                L = int(lengths[b])
                for t in range(L) if d == 0 else range(L - 1, -1, -1):
                    gi = W_ih @ layer_in[b, t] + b_ih
                    gh = W_hh @ h + b_hh
                    blocks = [slice(j * Hn, (j + 1) * Hn) for j in range(4)]
                    if cell == "lstm":
                        act = [
                            s(gi[blocks[0]] + gh[blocks[0]]),
                            s(gi[blocks[1]] + gh[blocks[1]]),
                            np.tanh(gi[blocks[2]] + gh[blocks[2]]),
                            s(gi[blocks[3]] + gh[blocks[3]]),
                        ]
                        c = act[1] * c + act[0] * act[2]
                        h = act[3] * np.tanh(c)
                    elif cell == "gru":
                        r = s(gi[blocks[0]] + gh[blocks[0]])
                        z = s(gi[blocks[1]] + gh[blocks[1]])
                        n = np.tanh(gi[blocks[2]] + r * gh[blocks[2]])
                        act = [r, z, n]
                        h = (1 - z) * n + z * h
                    else:
                        pre = gi + gh
                        act = []
                        h = np.tanh(pre) if cell == "rnn" else np.maximum(pre, 0)
                    layer_out[b, t, d * Hn : (d + 1) * Hn] = h
                    if k == layer:
                        hidden[b, t, d * Hn : (d + 1) * Hn] = h
                        cells[b, t, d * Hn : (d + 1) * Hn] = c
                        for g, a in enumerate(act):
                            gates[b, t, d, g] = a
        layer_in = layer_out
    return hidden, cells, gates


def make_case(cell, layers, bidir, tokens, seed):
    kwargs = {"vocab_size": V, "input_size": 6} if tokens else {"input_size": I}
    model = seqrnn.Model(
        cell,
        hidden_size=H,
        num_layers=layers,
        bidirectional=bidir,
        output_size=4,
        seed=seed,
        **kwargs,
    )
    rng = np.random.default_rng(seed + 500)
    sd = {
        k: rng.uniform(-0.8, 0.8, size=v.shape) for k, v in model.state_dict().items()
    }
    model.load_state_dict(sd)
    sd = model.state_dict()  # float32-rounded, exactly what the library runs
    if tokens:
        x = rng.integers(0, V, size=(B, T))
    else:
        x = rng.uniform(-1, 1, size=(B, T, I)).astype(np.float32)
    D = 2 if bidir else 1
    h0 = rng.uniform(-0.5, 0.5, size=(layers * D, B, H)).astype(np.float32)
    c0 = rng.uniform(-0.5, 0.5, size=(layers * D, B, H)).astype(np.float32)
    return model, sd, x, h0, c0


CASES = list(itertools.product(CELLS, [1, 2], [False, True], [False, True]))


@pytest.mark.parametrize(
    "cell,layers,bidir,tokens",
    CASES,
    ids=[
        f"{c}-L{n}-{'bi' if b else 'uni'}-{'tok' if t else 'feat'}"
        for c, n, b, t in CASES
    ],
)
def test_matches_reference(cell, layers, bidir, tokens):
    seed = CASES.index((cell, layers, bidir, tokens))
    model, sd, x, h0, c0 = make_case(cell, layers, bidir, tokens, seed)
    lstm = cell == "lstm"
    state = (h0, c0) if lstm else h0
    out, final = model.predict(x, LENGTHS, initial_state=state, return_state=True)
    h_n = final[0] if lstm else final
    # The recording reference agrees with tests/reference.py.
    ref_out, ref_h_n, _ = reference.forward(
        sd,
        cell=cell,
        num_layers=layers,
        bidirectional=bidir,
        output="sequence",
        x=x,
        tokens=tokens,
        lengths=LENGTHS,
        h0=h0,
        c0=c0 if lstm else None,
    )
    D = 2 if bidir else 1
    for layer in range(layers):
        hidden, cells, gates = record_reference(
            sd,
            cell=cell,
            num_layers=layers,
            bidirectional=bidir,
            x=x,
            tokens=tokens,
            lengths=LENGTHS,
            h0=h0,
            c0=c0 if lstm else None,
            layer=layer,
        )
        for d in range(D):
            for b in range(B):
                t = LENGTHS[b] - 1 if d == 0 else 0
                np.testing.assert_allclose(
                    hidden[b, t, d * H : (d + 1) * H],
                    ref_h_n[layer * D + d, b],
                    rtol=1e-12,
                )
        if layer == layers - 1:
            W, bias = sd["head.weight"], sd["head.bias"]
            head = hidden @ W.T + bias
            mask = np.arange(T)[None, :] < LENGTHS[:, None]
            np.testing.assert_allclose(head[mask], ref_out[mask], rtol=1e-12)

        r = model.record(x, LENGTHS, layer=layer, initial_state=state)
        assert r.layer == layer and r.directions == D
        np.testing.assert_array_equal(r.lengths, LENGTHS)
        assert r.hidden.dtype == np.float32 and r.hidden.shape == (B, T, D * H)
        np.testing.assert_allclose(r.hidden, hidden, rtol=RTOL, atol=ATOL)
        names = GATE_NAMES[cell]
        assert list(r.gates) == names
        for g, name in enumerate(names):
            assert r.gates[name].shape == (B, T, D * H)
            np.testing.assert_allclose(
                r.gates[name],
                gates[:, :, :, g, :].reshape(B, T, D * H),
                rtol=RTOL,
                atol=ATOL,
            )
        if lstm:
            np.testing.assert_allclose(r.cell, cells, rtol=RTOL, atol=ATOL)
        else:
            assert r.cell is None
        # Last valid step (forward) and step 0 (backward) are the final states, exactly.
        for d in range(D):
            for b in range(B):
                t = LENGTHS[b] - 1 if d == 0 else 0
                np.testing.assert_array_equal(
                    r.hidden[b, t, d * H : (d + 1) * H], h_n[layer * D + d, b]
                )
                if lstm:
                    np.testing.assert_array_equal(
                        r.cell[b, t, d * H : (d + 1) * H], final[1][layer * D + d, b]
                    )
        # Padding is exactly zero everywhere.
        for b in range(B):
            pad = slice(LENGTHS[b], T)
            assert not r.hidden[b, pad].any()
            assert r.cell is None or not r.cell[b, pad].any()
            assert not any(v[b, pad].any() for v in r.gates.values())
        # The top layer's hidden states are what the head reads.
        if layer == layers - 1:
            W, bias = sd["head.weight"], sd["head.bias"]
            mask = np.arange(T)[None, :] < LENGTHS[:, None]
            np.testing.assert_allclose(
                (r.hidden @ W.T + bias)[mask], out[mask], rtol=RTOL, atol=ATOL
            )


def test_defaults_sub_batches_and_negative_layers():
    model, sd, x, h0, c0 = make_case("gru", 2, True, True, 77)
    top = model.record(x, LENGTHS)
    assert top.layer == 1
    np.testing.assert_array_equal(
        model.record(x, LENGTHS, layer=-2).hidden,
        model.record(x, LENGTHS, layer=0).hidden,
    )
    # Sub-batches of 1 trim each one's time to its length; the result is the same.
    small = model.record(x, LENGTHS, batch_size=1)
    np.testing.assert_array_equal(small.hidden, top.hidden)
    for name in top.gates:
        np.testing.assert_array_equal(small.gates[name], top.gates[name])
    # A list of variable-length sequences is padded for you.
    seqs = [list(x[b, : LENGTHS[b]]) for b in range(B)]
    listed = model.record(seqs)
    np.testing.assert_array_equal(listed.hidden, top.hidden)
    np.testing.assert_array_equal(listed.lengths, LENGTHS)
    # Each sequence alone gives what it gives in the batch.
    for b in range(B):
        alone = model.record(x[b : b + 1, : LENGTHS[b]])
        np.testing.assert_allclose(
            alone.hidden[0], top.hidden[b, : LENGTHS[b]], rtol=RTOL, atol=1e-6
        )
    # In the first bidirectional layer the forward half at step t depends only on
    # steps <= t, the backward half on steps >= t (the second layer mixes both).
    changed = x.copy()
    changed[0, 6] = (changed[0, 6] + 1) % V
    first, other = (
        model.record(x, LENGTHS, layer=0),
        model.record(changed, LENGTHS, layer=0),
    )
    np.testing.assert_array_equal(other.hidden[0, :6, :H], first.hidden[0, :6, :H])
    assert np.abs(other.hidden[0, :6, H:] - first.hidden[0, :6, H:]).max() > 1e-4


def test_rnn_has_no_gates_and_feature_float64_inputs():
    model = seqrnn.Model(
        "rnn_relu", input_size=2, hidden_size=3, output_size=1, loss="mse"
    )
    r = model.record(np.ones((2, 4, 2)))  # float64 converted
    assert r.gates == {} and r.cell is None and r.hidden.shape == (2, 4, 3)
    assert (r.hidden >= 0).all()


def test_bad_inputs():
    model = seqrnn.Model(
        "lstm", input_size=2, hidden_size=3, num_layers=2, output_size=1
    )
    x = np.zeros((2, 3, 2), np.float32)
    for layer in (2, -3, 100):
        with pytest.raises(seqrnn.OutOfRangeError, match=r"layer=.* outside \[-2, 2\)"):
            model.record(x, layer=layer)
    for layer in (1.0, "0", None, True):
        with pytest.raises(seqrnn.InvalidArgumentError, match="layer"):
            model.record(x, layer=layer)
    with pytest.raises(seqrnn.ShapeError):
        model.record(np.zeros((2, 3, 5)))
    with pytest.raises(seqrnn.ShapeError):
        model.record(np.zeros((2, 3)))
    with pytest.raises(seqrnn.OutOfRangeError):
        model.record(x, lengths=[3, 4])
    with pytest.raises(seqrnn.NonFiniteError):
        model.record(np.full((1, 3, 2), np.nan))
    with pytest.raises(seqrnn.InvalidArgumentError):
        model.record(x, batch_size=0)
    with pytest.raises(seqrnn.InvalidArgumentError):
        model.record(x, initial_state=np.zeros((4, 2, 3)))  # an LSTM needs (h, c)
    with pytest.raises(seqrnn.ShapeError):
        model.record(x, initial_state=(np.zeros((4, 2, 3)), np.zeros((1, 2, 3))))
    tokens = seqrnn.Model("gru", vocab_size=4, hidden_size=3, output_size=4)
    with pytest.raises(seqrnn.OutOfRangeError):
        tokens.record([[1, 4]])
    model.close()
    with pytest.raises(seqrnn.InvalidArgumentError, match="closed"):
        model.record(x)


def test_extension_call_errors():
    """The C call's own checks, reached through the thin extension."""
    gru = seqrnn.Model("gru", input_size=2, hidden_size=3, output_size=1)
    rnn = seqrnn.Model("rnn", input_size=2, hidden_size=3, output_size=1)
    lstm = seqrnn.Model("lstm", input_size=2, hidden_size=3, output_size=1)
    x = np.zeros((1, 2, 2), np.float32)
    kw = {"batch_size": 1, "seq_len": 2, "features": x}
    assert _seqrnn.record_sizes(lstm._m, 1, 2) == {
        "hidden": 6,
        "cell": 6,
        "gates": 24,
        "gate_count": 4,
    }
    assert _seqrnn.record_sizes(rnn._m, 3, 2)["gate_count"] == 0
    with pytest.raises(seqrnn.InvalidArgumentError):
        _seqrnn.record_sizes(gru._m, 0, 2)
    buf = np.zeros(100, np.float32)
    with pytest.raises(seqrnn.UnsupportedError, match="gru"):
        _seqrnn.record(gru._m, 0, None, buf, None, **kw)
    with pytest.raises(seqrnn.UnsupportedError, match="no gates"):
        _seqrnn.record(rnn._m, 0, None, None, buf, **kw)
    with pytest.raises(seqrnn.OutOfRangeError, match="layer"):
        _seqrnn.record(lstm._m, 1, buf, None, None, **kw)
    with pytest.raises(seqrnn.BufferTooSmallError, match="gates"):
        _seqrnn.record(lstm._m, 0, buf, buf, np.zeros(23, np.float32), **kw)
    with pytest.raises(TypeError):
        _seqrnn.record(lstm._m, 0, np.zeros(6, np.float64), None, None, **kw)
    with pytest.raises(seqrnn.InvalidArgumentError):  # read-only output
        ro = np.zeros(6, np.float32)
        ro.flags.writeable = False
        _seqrnn.record(lstm._m, 0, ro, None, None, **kw)
    with pytest.raises(TypeError):
        _seqrnn.record("not a model", 0, None, None, None, **kw)
    _seqrnn.record(lstm._m, 0, None, None, None, **kw)  # nothing wanted: runs

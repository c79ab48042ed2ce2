"""seqrnn.Seq2Seq against a numpy reference of the whole forward pass (encoder,
unidirectional or bidirectional with its directions summed, decoder from the
encoder's final states, Luong attention masked by source
lengths, output layer), greedy decoding against a numpy greedy decoder, beam
width 1 against greedy, the scheduled-sampling schedules, dropout, files,
checkpoints that resume training bit for bit, and errors."""

import numpy as np
import pytest

import seqrnn


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def cell_step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One PyTorch cell step in float64 (gate orders i,f,g,o and r,z,n)."""
    if cell == "lstm":
        g = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        i, f, gg, o = np.split(g, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(gg)
        return sigmoid(o) * np.tanh(c), c
    if cell == "gru":
        gi = x @ w_ih.T + b_ih
        gh = h @ w_hh.T + b_hh
        r = sigmoid(gi[..., : h.shape[-1]] + gh[..., : h.shape[-1]])
        z = sigmoid(
            gi[..., h.shape[-1] : 2 * h.shape[-1]]
            + gh[..., h.shape[-1] : 2 * h.shape[-1]]
        )
        n = np.tanh(gi[..., 2 * h.shape[-1] :] + r * gh[..., 2 * h.shape[-1] :])
        return (1 - z) * n + z * h, c
    return np.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh), c


def run_stack(sd, prefix, cell, layers, tokens, h, c):
    """Runs one sequence through a stack; returns top outputs [T][H] and final h, c."""
    x = sd[prefix + "embedding.weight"][tokens]
    h, c = h.copy(), c.copy()
    for layer in range(layers):
        w = [
            sd[f"{prefix}{k}_l{layer}"]
            for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        ]
        outs = []
        for t in range(len(x)):
            h[layer], c[layer] = cell_step(cell, x[t], h[layer], c[layer], *w)
            outs.append(h[layer].copy())
        x = np.array(outs)
    return x, h, c


def run_bidirectional_encoder(sd, cell, layers, tokens, hidden):
    """A bidirectional encoder over one sequence: each layer runs forward and
    backward (``_reverse`` weights) from zero states and feeds the next layer
    both outputs side by side. Returns the summed top outputs [T][H] and the
    summed final states per layer (forward's at the end, backward's at the
    start)."""
    x = sd["encoder.embedding.weight"][tokens]
    h_sum, c_sum = np.zeros((layers, hidden)), np.zeros((layers, hidden))
    for layer in range(layers):
        halves = []
        for suffix, order in (("", range(len(x))), ("_reverse", range(len(x))[::-1])):
            w = [
                sd[f"encoder.{k}_l{layer}{suffix}"]
                for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            ]
            h, c = np.zeros(hidden), np.zeros(hidden)
            out = np.zeros((len(x), hidden))
            for t in order:
                h, c = cell_step(cell, x[t], h, c, *w)
                out[t] = h
            halves.append(out)
            h_sum[layer] += h
            c_sum[layer] += c
        x = np.concatenate(halves, axis=1)
    return x[:, :hidden] + x[:, hidden:], h_sum, c_sum


def encode(sd, cell, layers, source, bidirectional):
    hidden = sd["output.weight"].shape[1]
    if bidirectional:
        return run_bidirectional_encoder(sd, cell, layers, np.array(source), hidden)
    zeros = np.zeros((layers, hidden))
    return run_stack(sd, "encoder.", cell, layers, np.array(source), zeros, zeros)


def head(sd, attention, dec_out, enc_out):
    """Logits [T][V] and attention weights [T][S] of one sequence."""
    if attention is None:
        return dec_out @ sd["output.weight"].T + sd["output.bias"], None
    q = dec_out if attention == "dot" else dec_out @ sd["attention.linear_in.weight"].T
    scores = q @ enc_out.T
    a = np.exp(scores - scores.max(axis=1, keepdims=True))
    a /= a.sum(axis=1, keepdims=True)
    context = a @ enc_out
    wc = sd["attention.linear_out.weight"]
    attended = np.tanh(np.concatenate([context, dec_out], axis=1) @ wc.T)
    return attended @ sd["output.weight"].T + sd["output.bias"], a


def reference_logits(
    sd, cell, layers, attention, bos, eos, source, target, bidirectional=False
):
    enc_out, h, c = encode(sd, cell, layers, source, bidirectional)
    dec_in = np.array([bos] + list(target))
    dec_out, _, _ = run_stack(sd, "decoder.", cell, layers, dec_in, h, c)
    return head(sd, attention, dec_out, enc_out)


def reference_greedy(
    sd, cell, layers, attention, bos, eos, source, max_length, bidirectional=False
):
    enc_out, h, c = encode(sd, cell, layers, source, bidirectional)
    token, out = bos, []
    for _ in range(max_length):
        dec_out, h, c = run_stack(sd, "decoder.", cell, layers, np.array([token]), h, c)
        logits, _ = head(sd, attention, dec_out, enc_out)
        token = int(np.argmax(logits[0]))
        if token == eos:
            break
        out.append(token)
    return out


SOURCES = [[3, 0, 5], [1, 2, 3, 4, 5], [4]]
TARGETS = [[3, 4], [], [6, 5, 3, 2]]


def double_state(model):
    return {k: v.astype(np.float64) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn_tanh"])
@pytest.mark.parametrize("attention", [None, "dot", "general"])
@pytest.mark.parametrize("layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_forward_matches_numpy(cell, attention, layers, bidirectional):
    model = seqrnn.Seq2Seq(
        6,
        7,
        cell=cell,
        hidden_size=5,
        embedding_size=3,
        num_layers=layers,
        bidirectional_encoder=bidirectional,
        attention=attention,
        bos_id=1,
        eos_id=2,
        seed=11,
    )
    assert ("encoder.weight_hh_l0_reverse" in model.state_dict()) == bidirectional
    sd = double_state(model)
    logits, weights = model.logits(SOURCES, TARGETS)
    total, count = 0.0, 0
    for b, (source, target) in enumerate(zip(SOURCES, TARGETS)):
        ref, ref_a = reference_logits(
            sd, cell, layers, attention, 1, 2, source, target, bidirectional
        )
        n = len(target) + 1
        np.testing.assert_allclose(logits[b, :n], ref, rtol=1e-4, atol=1e-5)
        assert not logits[b, n:].any()
        if attention is not None:
            np.testing.assert_allclose(
                weights[b, :n, : len(source)], ref_a, rtol=1e-4, atol=1e-6
            )
            assert not weights[b, :, len(source) :].any()
        else:
            assert not weights.any()
        log_p = ref - np.log(
            np.exp(ref - ref.max(1, keepdims=True)).sum(1, keepdims=True)
        )
        log_p -= ref.max(1, keepdims=True)
        total -= sum(log_p[t, y] for t, y in enumerate(list(target) + [2]))
        count += n
    ev = model.evaluate(SOURCES, TARGETS)
    assert ev["count"] == count
    assert ev["loss"] == pytest.approx(total / count, rel=1e-5)


@pytest.mark.parametrize("attention", [None, "general"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_greedy_matches_numpy_and_beam_width_one(attention, bidirectional):
    model = seqrnn.Seq2Seq(
        6,
        7,
        cell="gru",
        hidden_size=8,
        bidirectional_encoder=bidirectional,
        attention=attention,
        bos_id=0,
        eos_id=1,
        seed=4,
    )
    sd = double_state(model)
    sources = [[1, 2, 3], [5], [0, 0, 4, 4], [2, 3]]
    greedy = model.translate(sources, max_length=7)
    for source, got in zip(sources, greedy):
        expected = reference_greedy(
            sd, "gru", 1, attention, 0, 1, source, 7, bidirectional
        )
        assert list(got) == expected
    beam, beam_scores = model.translate(
        sources, max_length=7, beam_width=1, return_scores=True
    )
    _, greedy_scores = model.translate(sources, max_length=7, return_scores=True)
    assert all(np.array_equal(a, b) for a, b in zip(greedy, beam))
    assert beam_scores == greedy_scores
    wide, wide_scores = model.translate(
        sources, max_length=7, beam_width=5, return_scores=True
    )
    assert all(w >= g - 1e-5 for w, g in zip(wide_scores, greedy_scores))


def test_sampling_schedules():
    def ratio(kind, **kw):
        m = seqrnn.Seq2Seq(3, 4, hidden_size=4, sampling=kind, **kw)
        return [m.teacher_forcing_ratio(i) for i in (0, 10, 100, 1000)]

    assert ratio(None) == [1, 1, 1, 1]
    assert ratio("constant", sampling_start=0.6) == pytest.approx([0.6] * 4)
    assert ratio("linear", sampling_end=0.2, sampling_decay=0.005) == pytest.approx(
        [1, 0.95, 0.5, 0.2], rel=1e-6
    )
    assert ratio("exponential", sampling_decay=0.99) == pytest.approx(
        [0.99**i for i in (0, 10, 100, 1000)], rel=1e-5
    )
    k = 100
    assert ratio("inverse_sigmoid", sampling_decay=k) == pytest.approx(
        [k / (k + np.exp(i / k)) for i in (0, 10, 100, 1000)], rel=1e-6
    )
    m = seqrnn.Seq2Seq(
        3, 4, hidden_size=8, sampling="linear", sampling_decay=0.1, bos_id=0
    )
    m.train_step([[1, 2]], [[2, 3]])
    assert m.step_count == 1
    assert m.teacher_forcing_ratio() == pytest.approx(0.9)


def test_files_state_dict_and_gradients(tmp_path):
    model = seqrnn.Seq2Seq(
        6, 7, hidden_size=6, attention="general", bos_id=1, eos_id=2, seed=3
    )
    model.fit(SOURCES, TARGETS, epochs=3, batch_size=2, verbose=0)
    path = tmp_path / "s2s.safetensors"
    model.save(path)
    loaded = seqrnn.Seq2Seq.load(path)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)
    assert loaded.evaluate(SOURCES, TARGETS) == model.evaluate(SOURCES, TARGETS)
    safetensors = pytest.importorskip("safetensors.numpy")
    tensors = safetensors.load_file(str(path))
    assert set(tensors) == set(model.state_dict())
    other = seqrnn.Seq2Seq(
        6, 7, hidden_size=6, attention="general", bos_id=1, eos_id=2, seed=9
    )
    other.load_state_dict(model.state_dict())
    assert other.evaluate(SOURCES, TARGETS) == model.evaluate(SOURCES, TARGETS)
    model.compute_gradients(SOURCES, TARGETS)
    grads = model.gradients()
    assert set(grads) == set(model.state_dict()) and all(
        g.any() for g in grads.values()
    )


def test_dropout_acts_in_training_passes_only(tmp_path):
    kwargs = dict(hidden_size=6, num_layers=2, attention="dot", bos_id=1, eos_id=2)
    model = seqrnn.Seq2Seq(6, 7, dropout=0.4, recurrent_dropout=0.2, seed=3, **kwargs)
    twin = seqrnn.Seq2Seq(6, 7, seed=3, **kwargs)
    params = model.params()
    assert params["dropout"] == np.float32(0.4)
    assert params["recurrent_dropout"] == np.float32(0.2)
    assert twin.params()["dropout"] == 0 and twin.params()["recurrent_dropout"] == 0
    # Same weights; evaluation sees every unit, so it matches the model without dropout.
    assert model.evaluate(SOURCES, TARGETS) == twin.evaluate(SOURCES, TARGETS)
    first = model.compute_gradients(SOURCES, TARGETS)
    dropped = model.gradients()
    second = model.compute_gradients(SOURCES, TARGETS)
    twin.compute_gradients(SOURCES, TARGETS)
    plain = twin.gradients()
    assert first != second  # fresh masks every training pass
    for name in ("encoder.weight_hh_l0", "decoder.weight_hh_l1", "output.weight"):
        scale = np.abs(plain[name]).max()
        assert np.abs(dropped[name] - plain[name]).max() > 1e-2 * scale, name
    path = tmp_path / "dropout.safetensors"
    model.save(path)
    loaded = seqrnn.Seq2Seq.load(path)
    assert loaded.params()["dropout"] == np.float32(0.4)
    assert loaded.params()["recurrent_dropout"] == np.float32(0.2)
    for rate in (1.0, -0.1, float("nan")):
        for name in ("dropout", "recurrent_dropout"):
            with pytest.raises(seqrnn.InvalidArgumentError, match=name):
                seqrnn.Seq2Seq(6, 7, **{name: rate})


def test_checkpoint_resumes_training_exactly(tmp_path):
    model = seqrnn.Seq2Seq(
        6,
        7,
        hidden_size=6,
        num_layers=2,
        dropout=0.3,
        bidirectional_encoder=True,
        attention="general",
        bos_id=1,
        eos_id=2,
        sampling="constant",
        sampling_start=0.5,
        sampling_from_model=True,
        seed=3,
        train_seed=8,
    )
    batches = [(SOURCES[i:] + SOURCES[:i], TARGETS[i:] + TARGETS[:i]) for i in range(3)]
    model.train_step(*batches[0])
    path = tmp_path / "s2s.ckpt"
    model.save_checkpoint(path, 1)
    losses = [model.train_step(*batch) for batch in batches[1:]]
    resumed, position = seqrnn.Seq2Seq.load_checkpoint(path)
    assert position == 1 and resumed.step_count == 1
    assert resumed.params() == model.params()
    assert [resumed.train_step(*batch) for batch in batches[1:]] == losses
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[name], value)
    model.save(tmp_path / "model.safetensors")
    with pytest.raises(seqrnn.FormatError, match="not a checkpoint"):
        seqrnn.Seq2Seq.load_checkpoint(tmp_path / "model.safetensors")
    with pytest.raises(seqrnn.FileError):
        seqrnn.Seq2Seq.load_checkpoint(tmp_path / "missing.ckpt")


def test_fit_calls_callbacks_and_early_stopping_restores_weights():
    model = seqrnn.Seq2Seq(6, 7, hidden_size=6, bos_id=1, eos_id=2, seed=3, lr=0.05)
    seen, batches, snapshots = [], [], []
    recorder = seqrnn.LambdaCallback(
        on_epoch_end=lambda epoch, logs: (
            seen.append((epoch, sorted(logs))),
            snapshots.append(model.state_dict()),
        ),
        on_batch_end=lambda batch, logs: batches.append((batch, logs["size"])),
    )
    # Mode "max" on a falling loss: epoch 1 does not improve on epoch 0, so
    # training stops there and epoch 0's weights come back.
    stop = seqrnn.EarlyStopping(monitor="loss", mode="max", restore_best_weights=True)
    history = model.fit(
        SOURCES,
        TARGETS,
        epochs=5,
        batch_size=2,
        validation=(SOURCES, TARGETS),
        callbacks=[recorder, stop],
        verbose=0,
    )
    keys = ["loss", "teacher_forcing", "val_exact_match", "val_loss"]
    keys.append("val_token_accuracy")
    assert seen == [(0, keys), (1, keys)]
    assert batches == [(0, 2), (1, 1)] * 2
    assert len(history["loss"]) == 2 and history["loss"][1] < history["loss"][0]
    assert stop.stopped_epoch == 1 and stop.best_epoch == 0 and model.stop_training
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, snapshots[0][name])
    assert not np.array_equal(snapshots[0]["output.bias"], snapshots[1]["output.bias"])
    with pytest.raises(seqrnn.InvalidArgumentError, match="not a Callback"):
        model.fit(SOURCES, TARGETS, callbacks=[object()], verbose=0)
    with pytest.raises(ValueError, match="val_loss"):
        model.fit(SOURCES, TARGETS, callbacks=[seqrnn.EarlyStopping()], verbose=0)


def test_errors(tmp_path):
    with pytest.raises(seqrnn.InvalidArgumentError):
        seqrnn.Seq2Seq(3, 4, attention="bahdanau")
    with pytest.raises(seqrnn.InvalidArgumentError):
        seqrnn.Seq2Seq(3, 4, bos_id=2, eos_id=2)
    with pytest.raises(seqrnn.InvalidArgumentError):
        seqrnn.Seq2Seq(0, 4)
    with pytest.raises(seqrnn.InvalidArgumentError):
        seqrnn.Seq2Seq(3, 4, sampling="exponential", sampling_decay=3)
    m = seqrnn.Seq2Seq(3, 4, hidden_size=4, bos_id=0, eos_id=1)
    with pytest.raises(seqrnn.OutOfRangeError, match="source"):
        m.train_step([[3]], [[2]])
    with pytest.raises(seqrnn.OutOfRangeError, match="target"):
        m.train_step([[2]], [[4]])
    with pytest.raises(seqrnn.ShapeError):
        m.train_step([[1], [2]], [[2]])
    with pytest.raises(seqrnn.ShapeError):
        m.train_step([[]], [[2]])
    with pytest.raises(seqrnn.InvalidArgumentError):
        m.translate([[1]], beam_width=0)
    with pytest.raises(seqrnn.InvalidArgumentError):
        m.translate([[1]], max_length=0)
    with pytest.raises(seqrnn.UnknownNameError):
        m.load_state_dict({"head.weight": np.zeros(4)})
    with pytest.raises(seqrnn.ShapeError):
        m.load_state_dict({"output.bias": np.zeros(3)})
    with pytest.raises(seqrnn.NonFiniteError):
        m.load_state_dict({"output.bias": np.array([0, np.nan, 0, 0])})
    plain = seqrnn.Model("gru", vocab_size=4, hidden_size=4, output_size=4)
    plain.save(tmp_path / "plain.safetensors")
    with pytest.raises(seqrnn.FormatError):
        seqrnn.Seq2Seq.load(tmp_path / "plain.safetensors")
    with pytest.raises(OSError):
        seqrnn.Seq2Seq.load(tmp_path / "missing.safetensors")
    m.close()
    with pytest.raises(seqrnn.InvalidArgumentError):
        m.evaluate([[1]], [[2]])

"""fit, History, validation, callbacks, interruption, files, state dicts and
generation of seqrnn.Model."""

from __future__ import annotations

import io
import pickle
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import seqrnn

V, T = 4, 8


def recall_task(n=256, seed=0):
    """Output at the end = the first token: needs memory across 7 steps."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, V, size=(n, T))
    return x, x[:, 0].copy()


def token_model(cell="gru", seed=1, **kw):
    kw.setdefault("output", "last")
    return seqrnn.Model(
        cell, vocab_size=V, hidden_size=16, output_size=V, seed=seed, **kw
    )


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_fit_learns_a_task_that_needs_memory(cell):
    x, y = recall_task()
    model = token_model(cell)
    before = model.evaluate(x, y)
    assert before["accuracy"] < 0.5  # chance is 0.25
    history = model.fit(x, y, epochs=15, batch_size=32, lr=2e-2, verbose=0)
    after = model.evaluate(x, y)
    assert after["loss"] < 0.1 * before["loss"]
    assert after["accuracy"] > 0.95
    losses = history.history["loss"]
    assert losses[-1] < 0.1 * losses[0]


def test_history_contents():
    x, y = recall_task(64)
    model = token_model()
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert isinstance(history, seqrnn.History)
    assert model.history is history
    assert history.epoch == [0, 1, 2]
    assert sorted(history.history) == ["accuracy", "loss"]
    for values in history.history.values():
        assert len(values) == 3
        assert all(isinstance(v, float) and np.isfinite(v) for v in values)
    assert all(0.0 <= a <= 1.0 for a in history.history["accuracy"])
    assert history.params["epochs"] == 3 and history.params["steps"] == 4
    assert not history.interrupted and not history.stopped_early
    assert "3 epochs" in repr(history)


def test_mse_history_has_no_accuracy_and_loss_falls():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 6, 2))
    y = np.cumsum(x, axis=1)  # running sum at every step
    model = seqrnn.Model(
        "lstm", input_size=2, hidden_size=16, output_size=2, loss="mse", seed=3
    )
    history = model.fit(x, y, epochs=20, batch_size=16, lr=1e-2, verbose=0)
    assert sorted(history.history) == ["loss"]
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]


def test_variable_length_lists_train():
    rng = np.random.default_rng(1)
    seqs = [rng.integers(0, V, size=rng.integers(1, 9)).tolist() for _ in range(100)]
    targets = [s[::-1] for s in seqs]  # sequence output, ragged targets padded too
    model = seqrnn.Model("gru", vocab_size=V, hidden_size=8, output_size=V, seed=0)
    history = model.fit(seqs, targets, epochs=2, batch_size=10, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.evaluate(seqs, targets)["loss"] > 0


def test_validation_metrics_match_evaluate():
    x, y = recall_task(128)
    vx, vy = recall_task(40, seed=9)
    model = token_model()
    history = model.fit(
        x, y, epochs=2, batch_size=32, validation_data=(vx, vy), verbose=0
    )
    assert sorted(history.history) == [
        "accuracy",
        "loss",
        "val_accuracy",
        "val_f1",
        "val_loss",
        "val_precision",
        "val_recall",
    ]
    final = model.evaluate(vx, vy)
    assert history.history["val_loss"][-1] == pytest.approx(final["loss"], rel=1e-9)
    assert history.history["val_accuracy"][-1] == pytest.approx(
        final["accuracy"], rel=1e-9
    )
    # with lengths as the third element
    lengths = np.full(40, T)
    h2 = model.fit(x, y, epochs=1, validation_data=(vx, vy, lengths), verbose=0)
    assert "val_loss" in h2.history


def test_training_accuracy_is_the_accuracy_before_each_step():
    x, y = recall_task(32)
    model = token_model()
    expected = model.evaluate(x, y)
    history = model.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    assert history.history["accuracy"][0] == pytest.approx(expected["accuracy"])
    assert history.history["loss"][0] == pytest.approx(expected["loss"], rel=1e-5)


class Recorder(seqrnn.Callback):
    def __init__(self):
        super().__init__()
        self.events = []
        self.weights = []

    def on_train_begin(self, logs=None):
        self.events.append("train_begin")

    def on_epoch_begin(self, epoch, logs=None):
        self.events.append(f"epoch_begin {epoch}")

    def on_batch_end(self, batch, logs=None):
        self.events.append(f"batch_end {batch}")

    def on_epoch_end(self, epoch, logs=None):
        self.events.append(f"epoch_end {epoch}")
        self.weights.append(self.model.state_dict())

    def on_train_end(self, logs=None):
        self.events.append("train_end")


def test_callback_order_and_model_and_params():
    x, y = recall_task(20)
    model = token_model()
    rec = Recorder()
    model.fit(x, y, epochs=2, batch_size=10, callbacks=[rec], verbose=0)
    assert rec.model is model
    assert rec.params["steps"] == 2 and rec.params["metrics"] == ["loss", "accuracy"]
    assert rec.events == [
        "train_begin",
        "epoch_begin 0",
        "batch_end 0",
        "batch_end 1",
        "epoch_end 0",
        "epoch_begin 1",
        "batch_end 0",
        "batch_end 1",
        "epoch_end 1",
        "train_end",
    ]


def test_early_stopping_restores_best_weights():
    x, y = recall_task(128)
    # Validation labels that training makes worse: best epoch is the first.
    vx = x[:64]
    vy = (x[:64, 0] + 1) % V
    model = token_model()
    rec = Recorder()
    stop = seqrnn.EarlyStopping(
        monitor="val_loss", patience=2, restore_best_weights=True
    )
    history = model.fit(
        x,
        y,
        epochs=20,
        batch_size=16,
        lr=2e-2,
        validation_data=(vx, vy),
        callbacks=[rec, stop],
        verbose=0,
    )
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 20, "training should have stopped early"
    assert history.stopped_early
    assert stop.stopped_epoch == len(val) - 1
    assert stop.best_epoch == best and len(val) - 1 - best == 2
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, rec.weights[best][name])
    assert model.evaluate(vx, vy)["loss"] == pytest.approx(val[best], rel=1e-6)


def test_early_stopping_without_restore_keeps_last_weights():
    x, y = recall_task(128)
    vx, vy = x[:64], (x[:64, 0] + 1) % V
    model = token_model()
    rec = Recorder()
    stop = seqrnn.EarlyStopping(patience=1)
    model.fit(
        x,
        y,
        epochs=20,
        batch_size=16,
        lr=2e-2,
        validation_data=(vx, vy),
        callbacks=[rec, stop],
        verbose=0,
    )
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, rec.weights[-1][name])


def test_early_stopping_on_a_missing_metric_fails_before_training():
    x, y = recall_task(16)
    model = token_model()
    before = model.state_dict()
    with pytest.raises(ValueError, match="val_loss"):
        model.fit(x, y, epochs=2, callbacks=[seqrnn.EarlyStopping()], verbose=0)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_callback_setting_stop_training_stops_after_that_batch():
    x, y = recall_task(100)
    model = token_model()
    batches = []

    def on_batch_end(batch, logs):
        batches.append(batch)
        if batch == 2:
            model.stop_training = True

    history = model.fit(
        x,
        y,
        epochs=5,
        batch_size=10,
        callbacks=[seqrnn.LambdaCallback(on_batch_end=on_batch_end)],
        verbose=0,
    )
    assert batches == [0, 1, 2]
    assert history.epoch == [0] and history.stopped_early
    assert model._trainer.step_count() == 3
    # the flag is reset by the next fit
    history = model.fit(x, y, epochs=1, batch_size=50, verbose=0)
    assert history.epoch == [0] and not history.stopped_early


def test_keyboard_interrupt_stops_cleanly(capsys):
    x, y = recall_task(64)
    model = token_model()
    ended = []

    def on_batch_end(batch, logs):
        if len(history_epochs) == 1 and batch == 1:
            raise KeyboardInterrupt

    history_epochs = []
    cb = seqrnn.LambdaCallback(
        on_batch_end=on_batch_end,
        on_epoch_end=lambda e, logs: history_epochs.append(e),
        on_train_end=lambda logs: ended.append(True),
    )
    history = model.fit(x, y, epochs=5, batch_size=16, callbacks=[cb], verbose=2)
    assert history.interrupted
    assert history.epoch == [0]
    assert ended == [True]
    # 4 steps of epoch 0 and 2 of epoch 1 were applied
    assert model._trainer.step_count() == 6
    out = capsys.readouterr().out
    assert "interrupted" in out and "epoch 2/5" in out
    # the model is still usable: predict, evaluate, and train again
    assert np.isfinite(model.predict(x)).all()
    assert np.isfinite(model.evaluate(x, y)["loss"])
    again = model.fit(x, y, epochs=1, verbose=0)
    assert not again.interrupted and again.epoch == [0]


def test_keyboard_interrupt_is_silent_with_verbose_0(capsys):
    x, y = recall_task(32)
    model = token_model()

    def boom(batch, logs):
        raise KeyboardInterrupt

    history = model.fit(
        x, y, epochs=2, callbacks=[seqrnn.LambdaCallback(on_batch_end=boom)], verbose=0
    )
    assert history.interrupted and history.epoch == []
    assert capsys.readouterr().out == ""


def test_optimizer_state_is_kept_across_fit_calls_with_the_same_settings():
    x, y = recall_task(64)
    model = token_model()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0)
    trainer = model._trainer
    model.fit(
        x, y, epochs=1, batch_size=32, lr=5e-3, verbose=0
    )  # new lr only: same optimizer
    assert model._trainer is trainer and trainer.step_count() == 4
    model.fit(
        x, y, epochs=1, batch_size=32, clip_norm=1.0, verbose=0
    )  # new setting: fresh optimizer
    assert model._trainer is not trainer and model._trainer.step_count() == 2
    model.reset_optimizer()
    model.fit(x, y, epochs=1, batch_size=32, clip_norm=1.0, verbose=0)
    assert model._trainer.step_count() == 2


def test_sgd_step_follows_compute_gradients():
    x, y = recall_task(16)
    model = token_model(seed=4)
    before = model.state_dict()
    loss, grads = model.compute_gradients(x, y)
    assert list(grads) == list(before)
    assert loss == pytest.approx(model.evaluate(x, y)["loss"], rel=1e-5)
    # compute_gradients changes nothing
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    model.fit(
        x, y, epochs=1, batch_size=16, optimizer="sgd", lr=0.5, shuffle=False, verbose=0
    )
    after = model.state_dict()
    for name in before:
        np.testing.assert_allclose(
            after[name], before[name] - 0.5 * grads[name], rtol=1e-5, atol=1e-6
        )
    assert any(np.abs(grads[n]).max() > 1e-4 for n in grads)


def test_progress_lines_when_not_a_terminal(capsys):
    x, y = recall_task(32)
    model = token_model()
    model.fit(x, y, epochs=3, batch_size=8, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert (
        lines[0].startswith("Epoch 1/3")
        and "loss: " in lines[0]
        and "accuracy: " in lines[0]
    )
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_builtin_progress_bar_on_a_terminal(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # as if tqdm were not installed
    screen = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", screen)
    x, y = recall_task(64)
    token_model().fit(x, y, epochs=2, batch_size=8, verbose=1)
    text = screen.getvalue()
    assert "\r" in text and "[" in text and "8/8" in text
    assert text.count("\n") == 2  # one finished line per epoch


def test_tqdm_is_used_when_installed(monkeypatch):
    created = []

    class FakeTqdm:
        def __init__(self, total=None, desc=None, **kw):
            self.total, self.desc, self.n, self.closed = total, desc, 0, False
            created.append(self)

        def update(self, n=1):
            self.n += n

        def set_postfix(self, *a, **k):
            pass

        def close(self):
            self.closed = True

    module = types.ModuleType("tqdm")
    module.tqdm = FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", module)
    monkeypatch.setattr(sys, "stdout", FakeTerminal())
    x, y = recall_task(40)
    token_model().fit(x, y, epochs=2, batch_size=10, verbose=1)
    assert [(b.total, b.n, b.closed) for b in created] == [(4, 4, True), (4, 4, True)]
    assert created[0].desc == "Epoch 1/2"


@pytest.mark.parametrize("tokens", [False, True])
def test_save_and_load_round_trip(tmp_path, tokens):
    if tokens:
        model = seqrnn.Model(
            "lstm",
            vocab_size=7,
            input_size=3,
            hidden_size=6,
            num_layers=2,
            output_size=7,
            seed=2,
        )
        x = np.random.default_rng(0).integers(0, 7, size=(3, 5))
    else:
        model = seqrnn.Model(
            "gru",
            input_size=3,
            hidden_size=6,
            bidirectional=True,
            output_size=2,
            output="last",
            loss="mse",
            seed=2,
        )
        x = np.random.default_rng(0).normal(size=(3, 5, 3))
    model.fit(
        x, np.zeros((3, 5), int) if tokens else np.zeros((3, 2)), epochs=1, verbose=0
    )
    path = tmp_path / "model.safetensors"
    model.save(path)  # a pathlib.Path
    loaded = seqrnn.load(str(path))
    assert repr(loaded) == repr(model)
    assert loaded.config == model.config
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(loaded.state_dict()[name], value)
    assert isinstance(seqrnn.Model.load(Path(path)), seqrnn.Model)


def test_state_dict_round_trip_between_models():
    a = seqrnn.Model(
        "lstm",
        input_size=2,
        hidden_size=4,
        num_layers=2,
        bidirectional=True,
        output_size=3,
        seed=1,
    )
    b = seqrnn.Model(
        "lstm",
        input_size=2,
        hidden_size=4,
        num_layers=2,
        bidirectional=True,
        output_size=3,
        seed=2,
    )
    x = np.random.default_rng(0).normal(size=(2, 5, 2))
    assert not np.array_equal(a.predict(x), b.predict(x))
    sd = a.state_dict()
    assert list(sd)[:4] == [
        "rnn.weight_ih_l0",
        "rnn.weight_hh_l0",
        "rnn.bias_ih_l0",
        "rnn.bias_hh_l0",
    ]
    assert "rnn.weight_ih_l1_reverse" in sd and sd["rnn.weight_ih_l1"].shape == (16, 8)
    result = b.load_state_dict(
        {k: v.astype(np.float64).tolist() for k, v in sd.items()}
    )  # any array-like
    assert result.missing_keys == [] and result.unexpected_keys == []
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    # state_dict returns copies
    sd["head.bias"][:] = 100
    assert not (a.state_dict()["head.bias"] == 100).any()


def test_load_state_dict_non_strict_reports_keys():
    m = seqrnn.Model("gru", input_size=2, hidden_size=3, output_size=1)
    result = m.load_state_dict(
        {"head.bias": np.array([2.5]), "extra": np.zeros(1)}, strict=False
    )
    assert result.unexpected_keys == ["extra"]
    assert (
        "head.weight" in result.missing_keys and "head.bias" not in result.missing_keys
    )
    assert m.state_dict()["head.bias"][0] == 2.5


def test_pickle_round_trip():
    m = seqrnn.Model(
        "rnn_relu", vocab_size=5, hidden_size=3, output_size=2, output="last", seed=9
    )
    clone = pickle.loads(pickle.dumps(m))
    x = [[1, 2], [3, 4, 0]]
    np.testing.assert_array_equal(clone.predict(x), m.predict(x))
    assert repr(clone) == repr(m)


def greedy_chain(model, prime, n):
    seq = list(prime)
    for _ in range(n):
        logits = model.predict([seq])[0, -1]
        seq.append(int(np.argmax(logits)))
    return seq[len(prime) :]


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_generate_greedy_is_the_argmax_chain(cell):
    model = seqrnn.Model(
        cell, vocab_size=11, hidden_size=12, num_layers=2, output_size=11, seed=5
    )
    rng = np.random.default_rng(0)
    model.load_state_dict(
        {k: rng.normal(scale=0.7, size=v.shape) for k, v in model.state_dict().items()}
    )
    prime = [3, 1, 4]
    got = model.generate(prime, 12, temperature=0)
    assert got == greedy_chain(model, prime, 12)
    assert all(isinstance(t, int) for t in got)
    # seeds do not matter when greedy
    assert model.generate(prime, 12, temperature=0, seed=1) == got


def test_generate_is_deterministic_with_a_seed_and_varies_with_temperature():
    model = seqrnn.Model("gru", vocab_size=20, hidden_size=8, output_size=20, seed=0)
    a = model.generate([1], 50, temperature=1.0, seed=123)
    assert a == model.generate(np.array([1]), 50, temperature=1.0, seed=123)
    assert len(a) == 50 and all(0 <= t < 20 for t in a)
    assert a != model.generate([1], 50, temperature=1.0, seed=124)
    # high temperature spreads the samples; low concentrates them on the argmax
    hot = model.generate([1], 200, temperature=5.0, seed=1)
    cold = model.generate([1], 200, temperature=0.05, seed=1)
    greedy = model.generate([1], 200, temperature=0)
    assert len(set(hot)) > len(set(cold))
    assert sum(c == g for c, g in zip(cold, greedy)) > 150
    assert model.generate([1], 0) == []


def test_generate_samples_from_the_softmax():
    """Token frequencies of first samples follow softmax(logits / T)."""
    model = seqrnn.Model("rnn", vocab_size=3, hidden_size=4, output_size=3, seed=2)
    model.load_state_dict(
        {"head.bias": [0.0, 1.0, 2.0], "head.weight": np.zeros((3, 4))}, strict=False
    )
    counts = np.zeros(3)
    for s in range(600):
        counts[model.generate([0], 1, temperature=2.0, seed=s)[0]] += 1
    expected = np.exp(np.array([0.0, 0.5, 1.0]))
    expected /= expected.sum()
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.06)


def test_stream_hidden_and_cell_are_writable():
    model = seqrnn.Model(
        "lstm",
        input_size=2,
        hidden_size=3,
        num_layers=2,
        output_size=1,
        loss="mse",
        seed=1,
    )
    x = np.random.default_rng(0).normal(size=(2, 4, 2)).astype(np.float32)
    _out, (h, c) = model.predict(x, return_state=True)
    with model.stream(batch_size=2) as s:
        s.hidden = h
        assert np.array_equal(s.hidden, h) and not s.cell.any()  # setting h keeps c
        s.cell = c
        np.testing.assert_array_equal(s.hidden, h)
        np.testing.assert_array_equal(s.cell, c)
        nxt = np.random.default_rng(1).normal(size=(2, 2)).astype(np.float32)
        step = s.step(nxt)
    full = model.predict(np.concatenate([x, nxt[:, None]], axis=1))
    np.testing.assert_allclose(step, full[:, -1], rtol=1e-5, atol=1e-6)
    s2 = model.stream(batch_size=2)
    s2.step(nxt)
    s2.reset()
    assert not s2.hidden.any()
    assert "Stream batch_size=2" in repr(s2)

"""The training toolkit from Python: AdamW, RMSprop and Nesterov SGD against
numpy formulas of torch.optim's algorithms, clipping by value, frozen
tensors, schedules (with History's lr), checkpoints that resume bit-identically
(extension and fit), non-finite batches, and determinism across processes."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest

import seqrnn
from seqrnn import _seqrnn as ext

V, H, O, B, T = 6, 5, 4, 3, 5


def make_model(seed=3, **kw):
    return ext.Model(
        cell=ext.CELL_LSTM,
        input_size=0,
        vocab_size=V,
        hidden_size=H,
        num_layers=2,
        bidirectional=False,
        output_size=O,
        output_mode=ext.OUTPUT_SEQUENCE,
        loss=ext.LOSS_CROSS_ENTROPY,
        seed=seed,
        **kw,
    )


def make_trainer(model, **kw):
    params = dict(
        optimizer=ext.OPTIMIZER_ADAM,
        learning_rate=1e-2,
        momentum=0.0,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        clip_norm=0.0,
    )
    params.update(kw)
    return ext.Trainer(model, **params)


def batch(index):
    rng = np.random.default_rng(100 + index)
    return dict(
        batch_size=B,
        seq_len=T,
        tokens=rng.integers(0, V, (B, T)).astype(np.int32),
        lengths=np.array([5, 2, 4], np.int64),
        target_classes=rng.integers(0, O, (B, T)).astype(np.int32),
    )


def weights(model):
    out = []
    for name, shape in model.tensors():
        a = np.empty(shape, np.float32)
        model.get_tensor(name, a)
        out.append(a.astype(np.float64).ravel())
    return np.concatenate(out)


def grads(trainer, model):
    out = []
    for name, shape in model.tensors():
        a = np.empty(shape, np.float32)
        trainer.get_gradient(name, a)
        out.append(a.astype(np.float64).ravel())
    return np.concatenate(out)


def f32(x):
    return float(np.float32(x))


def assert_close(got, want, tol=1e-5):
    err = np.max(np.abs(got - want) / np.maximum(1.0, np.abs(want)))
    assert err <= tol, f"largest relative difference {err}"


# -- optimizers against numpy ---------------------------------------------------


def test_adamw_follows_torch():
    model = make_model()
    tr = make_trainer(
        model,
        optimizer=2,
        learning_rate=0.01,
        beta1=0.8,
        beta2=0.95,
        epsilon=1e-6,
        weight_decay=0.2,
    )
    w = weights(model)
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    b1, b2, wd, eps = f32(0.8), f32(0.95), f32(0.2), f32(1e-6)
    for t in range(1, 5):
        tr.step(**batch(t))
        g = grads(tr, model)
        w = w - 0.01 * wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - 0.01 * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        assert_close(weights(model), w)


@pytest.mark.parametrize("momentum", [0.0, 0.6])
def test_rmsprop_follows_torch(momentum):
    model = make_model()
    tr = make_trainer(
        model,
        optimizer=3,
        learning_rate=0.003,
        momentum=momentum,
        epsilon=1e-7,
        rmsprop_alpha=0.9,
        l2_penalty=0.05,
    )
    w = weights(model)
    sq = np.zeros_like(w)
    buf = np.zeros_like(w)
    alpha, eps, mu, l2 = f32(0.9), f32(1e-7), f32(momentum), f32(0.05)
    for t in range(1, 5):
        tr.step(**batch(t))
        d = grads(tr, model) + l2 * w
        sq = alpha * sq + (1 - alpha) * d * d
        scaled = d / (np.sqrt(sq) + eps)
        if mu > 0:
            buf = mu * buf + scaled
            w = w - 0.003 * buf
        else:
            w = w - 0.003 * scaled
        assert_close(weights(model), w)


def test_nesterov_sgd_with_decoupled_decay_follows_torch():
    model = make_model()
    tr = make_trainer(
        model,
        optimizer=ext.OPTIMIZER_SGD,
        learning_rate=0.05,
        momentum=0.8,
        nesterov=True,
        weight_decay=0.1,
    )
    w = weights(model)
    buf = None
    mu, wd = f32(0.8), f32(0.1)
    for _ in range(3):
        tr.step(**batch(0))
        g = grads(tr, model)
        buf = g.copy() if buf is None else mu * buf + g
        w = w * (1 - 0.05 * wd) - 0.05 * (g + mu * buf)
        assert_close(weights(model), w)


def test_clip_value_clamps_before_the_update():
    model = make_model()
    tr = make_trainer(
        model, optimizer=ext.OPTIMIZER_SGD, learning_rate=1.0, clip_value=0.02
    )
    w = weights(model)
    tr.step(**batch(0))
    g = grads(tr, model)  # unclipped
    c = f32(0.02)
    assert (np.abs(g) > c).any() and ((np.abs(g) < c) & (g != 0)).any()
    assert_close(weights(model), w - np.clip(g, -c, c), tol=1e-6)


def test_frozen_tensors_get_gradients_but_no_updates():
    model = make_model()
    tr = make_trainer(model)
    tr.set_frozen("embedding.weight", True)
    before = np.empty((V, H), np.float32)
    model.get_tensor("embedding.weight", before)
    for i in range(3):
        tr.step(**batch(i))
    after = np.empty_like(before)
    model.get_tensor("embedding.weight", after)
    assert np.array_equal(before, after)
    g = np.empty_like(before)
    tr.get_gradient("embedding.weight", g)
    assert (g != 0).any()
    with pytest.raises(ext.UnknownNameError):
        tr.set_frozen("embedding", True)
    tr.set_frozen("embedding.weight", False)
    tr.step(**batch(3))
    model.get_tensor("embedding.weight", after)
    assert not np.array_equal(before, after)


def test_trainer_settings_are_checked():
    model = make_model()
    with pytest.raises(TypeError, match="gamma"):
        make_trainer(model, gamma="half")
    with pytest.raises(TypeError, match="warmup_steps"):
        make_trainer(model, warmup_steps=1.5)
    for bad in (
        dict(schedule=9),
        dict(optimizer=4),
        dict(nesterov=True),
        dict(rmsprop_alpha=1.0),
        dict(clip_value=-1.0),
        dict(min_learning_rate=1.0),
    ):
        with pytest.raises(ext.InvalidArgumentError):
            make_trainer(model, **bad)
    tr = make_trainer(model, schedule=2, gamma=0.5, learning_rate=0.5)
    assert tr.learning_rate() == 0.5
    tr.step(**batch(0))
    assert tr.learning_rate() == 0.25
    tr.set_learning_rate(0.1)
    assert tr.learning_rate() == pytest.approx(0.05)


# -- schedules ---------------------------------------------------------------------


def test_cosine_with_warmup_and_plateau_rates():
    model = make_model()
    tr = make_trainer(
        model,
        optimizer=ext.OPTIMIZER_SGD,
        learning_rate=0.1,
        warmup_steps=2,
        schedule=3,
        total_steps=5,
        min_learning_rate=0.01,
    )
    base, low = f32(0.1), f32(0.01)
    for n in range(1, 11):
        k = n - 3
        if n <= 2:
            want = base * n / 2
        elif k >= 5:
            want = low
        else:
            want = low + (base - low) * (1 + math.cos(math.pi * k / 5)) / 2
        assert tr.learning_rate() == pytest.approx(want, rel=2e-7)
        tr.step(**batch(n))

    tr = make_trainer(
        model,
        learning_rate=1.0,
        schedule=4,
        gamma=0.5,
        patience=1,
        min_learning_rate=0.2,
    )
    values = [1.0, 0.99995, 0.95, 0.96, 0.97, 0.97, 0.97, 0.97, 0.97]
    rates = [1, 1, 1, 1, 0.5, 0.5, 0.25, 0.25, f32(0.2)]
    for value, rate in zip(values, rates):
        tr.report_metric(value)
        assert tr.learning_rate() == pytest.approx(rate, rel=2e-7)
    with pytest.raises(ext.NonFiniteError):
        tr.report_metric(float("nan"))
    with pytest.raises(TypeError):
        tr.report_metric("low")


def test_fit_records_the_learning_rate_per_epoch():
    x, y = recall()
    m = seqrnn.Model("gru", vocab_size=4, hidden_size=8, output_size=4, output="last")
    h = m.fit(
        x,
        y,
        epochs=3,
        batch_size=16,
        lr=0.1,
        schedule="exponential",
        gamma=0.5,
        verbose=0,
    )
    # 4 batches per epoch: the epoch's last update is number 4, 8, 12.
    want = [f32(0.1) * f32(0.5) ** (n - 1) for n in (4, 8, 12)]
    assert h.history["lr"] == pytest.approx(want, rel=1e-6)


def test_fit_plateau_reports_val_loss_each_epoch():
    x, y = recall()
    m = seqrnn.Model("gru", vocab_size=4, hidden_size=8, output_size=4, output="last")
    # patience 0 and gamma 0.5: each epoch whose val_loss is not better halves.
    h = m.fit(
        x,
        y,
        epochs=4,
        batch_size=16,
        lr=1e-6,
        schedule="plateau",
        patience=0,
        gamma=0.5,
        validation_data=(x, y),
        verbose=0,
    )
    assert len(h.history["lr"]) == 4
    with pytest.raises(seqrnn.InvalidArgumentError, match="validation_data"):
        m.fit(x, y, schedule="plateau", verbose=0)
    m.fit(x, y, schedule="plateau", monitor="loss", verbose=0)


def recall(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 4, size=(n, 6))
    return x, x[:, 0].copy()


# -- checkpoints ------------------------------------------------------------------


def test_extension_checkpoint_resumes_bit_identically(tmp_path):
    settings = dict(
        optimizer=2,
        learning_rate=0.01,
        weight_decay=0.01,
        clip_norm=0.5,
        warmup_steps=2,
        schedule=3,
        total_steps=6,
        seed=9,
    )
    a_model = make_model(dropout=0.3)
    a = make_trainer(a_model, **settings)
    a.set_frozen("head.bias", True)
    for i in range(9):
        a.step(**batch(i))

    b_model = make_model(dropout=0.3)
    b = make_trainer(b_model, **settings)
    b.set_frozen("head.bias", True)
    for i in range(4):
        b.step(**batch(i))
    path = tmp_path / "run.ckpt"
    b.save_checkpoint(path, 4)
    c_model, c, position = ext.Trainer.load_checkpoint(str(path))
    assert position == 4 and c.step_count() == 4
    assert c_model.params() == b_model.params()
    for i in range(4, 9):
        c.step(**batch(i))
    assert np.array_equal(weights(c_model), weights(a_model))
    assert c.learning_rate() == a.learning_rate()
    assert c.last_evaluation() == a.last_evaluation()


def test_checkpoint_errors(tmp_path):
    model = make_model()
    tr = make_trainer(model)
    tr.step(**batch(0))
    with pytest.raises(seqrnn.FileError):
        ext.Trainer.load_checkpoint(str(tmp_path / "missing.ckpt"))
    model.save(str(tmp_path / "model.safetensors"))
    with pytest.raises(seqrnn.FormatError, match="model file"):
        ext.Trainer.load_checkpoint(str(tmp_path / "model.safetensors"))
    (tmp_path / "junk.ckpt").write_bytes(b"\x08" + b"\0" * 7 + b"{}junk")
    with pytest.raises(seqrnn.FormatError):
        ext.Trainer.load_checkpoint(str(tmp_path / "junk.ckpt"))
    good = tmp_path / "good.ckpt"
    tr.save_checkpoint(good)
    data = good.read_bytes().replace(
        b'"format_version":"1"', b'"format_version":"8"', 1
    )
    (tmp_path / "newer.ckpt").write_bytes(data)
    with pytest.raises(seqrnn.FormatError, match="format_version"):
        ext.Trainer.load_checkpoint(str(tmp_path / "newer.ckpt"))
    with pytest.raises(seqrnn.FileError):
        tr.save_checkpoint(tmp_path / "no" / "dir" / "x.ckpt")
    tr.close()
    with pytest.raises(seqrnn.InvalidArgumentError, match="closed"):
        tr.save_checkpoint(good)


def fit_args(path, **kw):
    args = dict(
        epochs=3,
        batch_size=16,
        lr=0.02,
        optimizer="adamw",
        weight_decay=0.01,
        schedule="cosine",
        warmup_steps=2,
        clip_value=1.0,
        freeze=("embedding.weight",),
        checkpoint=path,
        checkpoint_every=3,
        verbose=0,
        seed=5,
    )
    args.update(kw)
    return args


class StopAfter(seqrnn.Callback):
    """Stops fit after a number of batches, as a crash would."""

    def __init__(self, batches):
        super().__init__()
        self.left = batches

    def on_batch_end(self, batch, logs=None):
        self.left -= 1
        if self.left == 0:
            raise KeyboardInterrupt


def new_model():
    return seqrnn.Model(
        "lstm", vocab_size=4, hidden_size=8, output_size=4, output="last", dropout=0.2
    )


def test_fit_resume_equals_an_uninterrupted_run(tmp_path):
    x, y = recall()
    whole = new_model()
    whole.fit(x, y, **fit_args(tmp_path / "whole.ckpt"))

    # Interrupted in epoch 2 (batch 7 of 12), then resumed by a new process
    # (a new Model) with the same arguments.
    path = tmp_path / "run.ckpt"
    first = new_model()
    h = first.fit(x, y, callbacks=[StopAfter(7)], **fit_args(path))
    assert h.interrupted
    second = new_model()
    h2 = second.fit(x, y, resume=True, **fit_args(path))
    assert h2.epoch == [1, 2]
    for name, value in whole.state_dict().items():
        assert np.array_equal(second.state_dict()[name], value), name
    assert not np.array_equal(
        whole.state_dict()["rnn.weight_hh_l0"],
        new_model().state_dict()["rnn.weight_hh_l0"],
    )
    # The frozen embedding never moved.
    assert np.array_equal(
        whole.state_dict()["embedding.weight"],
        new_model().state_dict()["embedding.weight"],
    )
    # Resuming a finished run trains no more.
    h3 = second.fit(x, y, resume=True, **fit_args(path))
    assert h3.epoch == []
    with pytest.raises(seqrnn.InvalidArgumentError, match="configuration"):
        seqrnn.Model(
            "gru", vocab_size=4, hidden_size=8, output_size=4, output="last"
        ).fit(x, y, resume=True, **fit_args(path))


def test_fit_nonfinite_batches(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 3, 2))
    y = rng.normal(size=(8, 1))
    y[4:] = 1e30  # the second batch's squared error overflows float32
    model = seqrnn.Model(
        "gru", input_size=2, hidden_size=4, output_size=1, loss="mse", output="last"
    )
    before = model.state_dict()
    with pytest.raises(seqrnn.NonFiniteError, match="epoch 1, batch 2"):
        model.fit(
            x, y, batch_size=4, shuffle=False, optimizer="sgd", lr=1e-3, verbose=0
        )
    h = model.fit(
        x,
        y,
        epochs=2,
        batch_size=4,
        shuffle=False,
        optimizer="sgd",
        on_nonfinite="skip",
        verbose=0,
    )
    assert h.nonfinite_batches == 2 and not h.stopped_nonfinite and h.epoch == [0, 1]
    model.load_state_dict(before)
    h = model.fit(
        x,
        y,
        epochs=2,
        batch_size=4,
        shuffle=False,
        optimizer="sgd",
        on_nonfinite="stop",
        verbose=0,
    )
    assert h.nonfinite_batches == 1 and h.stopped_nonfinite and h.epoch == []
    with pytest.raises(seqrnn.InvalidArgumentError, match="on_nonfinite"):
        model.fit(x, y, on_nonfinite="ignore", verbose=0)


def test_fit_options_are_checked():
    x, y = recall(16)
    m = seqrnn.Model("gru", vocab_size=4, hidden_size=4, output_size=4, output="last")
    for kwargs, fragment in [
        ({"optimizer": "adagrad"}, "optimizer"),
        ({"schedule": "linear"}, "schedule"),
        ({"nesterov": True}, "nesterov"),
        ({"gamma": 0}, "gamma"),
        ({"l2": -1}, "l2"),
        ({"min_lr": 1.0}, "min_lr"),
        ({"checkpoint_every": 2}, "checkpoint"),
    ]:
        with pytest.raises(seqrnn.InvalidArgumentError, match=fragment):
            m.fit(x, y, verbose=0, **kwargs)
    with pytest.raises(seqrnn.UnknownNameError, match="freeze"):
        m.fit(x, y, verbose=0, freeze=("embedding",))


# -- determinism --------------------------------------------------------------------

_RUN = """
import hashlib, numpy as np, seqrnn
rng = np.random.default_rng(0)
x = rng.integers(0, 5, size=(48, 7)); y = x[:, 0]
m = seqrnn.Model("lstm", vocab_size=5, hidden_size=16, num_layers=2, output_size=5,
                 output="last", dropout=0.2, seed=4)
m.fit(x, y, epochs=2, batch_size=8, optimizer="rmsprop", lr=0.01, momentum=0.5,
      schedule="step", step_size=3, gamma=0.7, verbose=0, seed=11)
h = hashlib.sha256()
for v in m.state_dict().values():
    h.update(v.tobytes())
print(h.hexdigest())
"""


def test_same_seed_same_weights_across_processes():
    digests = {
        subprocess.run(
            [sys.executable, "-c", _RUN], check=True, capture_output=True, text=True
        ).stdout.strip()
        for _ in range(2)
    }
    assert len(digests) == 1

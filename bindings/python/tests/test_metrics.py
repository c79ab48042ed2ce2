"""Streaming metrics (seqrnn.metrics.Metrics), fit's validation F1, early
stopping on any validation metric restoring the best epoch's weights, and
pretrained embeddings (Model.load_word_vectors, Model.set_embeddings)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import seqrnn
from seqrnn.metrics import Metrics

V, T = 4, 8


def recall_task(n=256, seed=0):
    """Output at the end = the first token: needs memory across 7 steps."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, V, size=(n, T))
    return x, x[:, 0].copy()


def sequence_data(n=12, seed=3, classes=5, vocab=7):
    """Token sequences with uneven lengths and per-step class targets."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, vocab, size=(n, T))
    y = rng.integers(0, classes, size=(n, T))
    lengths = rng.integers(1, T + 1, size=n)
    return x, y, lengths


def sequence_model(classes=5, vocab=7):
    return seqrnn.Model(
        "gru", vocab_size=vocab, hidden_size=8, output_size=classes, seed=4
    )


# -- metrics on known confusion matrices ---------------------------------------


def test_f1_on_a_known_confusion_matrix():
    # confusion [target, predicted]:  2 1 1 / 1 2 0 / 0 1 2
    m = Metrics(3)
    m.add_predictions([0, 0, 1, 2, 1, 1, 0, 2, 2, 1], [0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
    np.testing.assert_array_equal(m.confusion_matrix, [[2, 1, 1], [1, 2, 0], [0, 1, 2]])
    per = m.per_class()
    np.testing.assert_allclose(per["precision"], [2 / 3, 1 / 2, 2 / 3], rtol=1e-12)
    np.testing.assert_allclose(per["recall"], [1 / 2, 2 / 3, 2 / 3], rtol=1e-12)
    np.testing.assert_allclose(per["f1"], [4 / 7, 4 / 7, 2 / 3], rtol=1e-12)
    np.testing.assert_array_equal(per["support"], [4, 3, 3])
    r = m.result()
    assert r["accuracy"] == pytest.approx(0.6, rel=1e-12)
    assert r["precision"] == pytest.approx(11 / 18, rel=1e-12)
    assert r["recall"] == pytest.approx(11 / 18, rel=1e-12)
    assert r["f1"] == pytest.approx(38 / 63, rel=1e-12)
    assert r["count"] == 10
    assert math.isnan(r["loss"]) and math.isnan(r["perplexity"])


def test_macro_averages_skip_classes_absent_from_targets_and_predictions():
    # 3 never occurs (skipped); 4 only predicted (recall 0); 2 only a target
    # (precision 0). Macro over {0, 1, 2, 4}: P 1/4, R 3/8, F1 7/24.
    m = Metrics(5)
    m.add_predictions(np.array([0, 4, 1, 0, 1]), np.array([0, 0, 1, 2, 2]))
    r = m.result()
    assert r["precision"] == pytest.approx(0.25, rel=1e-12)
    assert r["recall"] == pytest.approx(0.375, rel=1e-12)
    assert r["f1"] == pytest.approx(7 / 24, rel=1e-12)
    per = m.per_class()
    assert per["f1"][3] == 0 and per["support"][3] == 0
    assert per["precision"][2] == 0 and per["recall"][4] == 0


def test_matches_scikit_learn():
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(0)
    for case in range(40):
        classes = int(rng.integers(2, 9))
        n = int(rng.integers(1, 60))
        # Only some classes in play, so that some are absent or one-sided.
        used = rng.choice(
            classes, size=int(rng.integers(1, classes + 1)), replace=False
        )
        y_true = rng.choice(used, size=n)
        y_pred = np.where(rng.random(n) < 0.5, y_true, rng.choice(used, size=n))
        m = Metrics(classes)
        m.add_predictions(y_pred, y_true)
        r = m.result()
        p, rc, f, _ = sklearn_metrics.precision_recall_fscore_support(
            y_true, y_pred, average="macro", zero_division=0
        )
        assert r["precision"] == pytest.approx(p, abs=1e-12), case
        assert r["recall"] == pytest.approx(rc, abs=1e-12), case
        assert r["f1"] == pytest.approx(f, abs=1e-12), case
        assert r["f1"] == pytest.approx(
            sklearn_metrics.f1_score(y_true, y_pred, average="macro", zero_division=0),
            abs=1e-12,
        )
        assert r["accuracy"] == pytest.approx(
            sklearn_metrics.accuracy_score(y_true, y_pred), abs=1e-12
        )
        labels = list(range(classes))
        p, rc, f, s = sklearn_metrics.precision_recall_fscore_support(
            y_true, y_pred, labels=labels, average=None, zero_division=0
        )
        per = m.per_class()
        np.testing.assert_allclose(per["precision"], p, atol=1e-12)
        np.testing.assert_allclose(per["recall"], rc, atol=1e-12)
        np.testing.assert_allclose(per["f1"], f, atol=1e-12)
        np.testing.assert_array_equal(per["support"], s)
        np.testing.assert_array_equal(
            m.confusion_matrix,
            sklearn_metrics.confusion_matrix(y_true, y_pred, labels=labels),
        )


def test_add_predictions_errors_add_nothing():
    m = Metrics(3)
    m.add_predictions([1], [1])
    with pytest.raises(seqrnn.OutOfRangeError, match=r"predicted\[1\] = 3"):
        m.add_predictions([0, 3], [0, 1])
    with pytest.raises(seqrnn.OutOfRangeError):
        m.add_predictions([0, 1], [0, -1])
    with pytest.raises(seqrnn.ShapeError):
        m.add_predictions([0, 1], [0])
    with pytest.raises(seqrnn.InvalidArgumentError):
        m.add_predictions([0.5], [0])
    assert m.result()["count"] == 1
    m.reset()
    assert m.result()["count"] == 0 and math.isnan(m.result()["accuracy"])
    with pytest.raises(seqrnn.InvalidArgumentError):
        Metrics(-1)
    m.close()
    with pytest.raises(seqrnn.InvalidArgumentError, match="closed"):
        m.result()


# -- metrics from a model --------------------------------------------------------


@pytest.mark.parametrize("weighted", [False, True])
def test_batches_sum_to_the_concatenated_data(weighted):
    x, y, lengths = sequence_data()
    model = sequence_model()
    weights = None
    if weighted:
        weights = np.random.default_rng(1).choice([0.0, 0.5, 1.0, 2.0], size=y.shape)
        weights[:, 0] = 1.0
    streamed = Metrics.for_model(model)
    for part in (slice(0, 5), slice(5, 12)):
        streamed.update(
            model,
            x[part],
            y[part],
            lengths[part],
            loss_weights=None if weights is None else weights[part],
        )
    whole = Metrics.for_model(model)
    whole.update(model, x, y, lengths, loss_weights=weights, batch_size=3)
    a, b = streamed.result(), whole.result()
    assert a["count"] == b["count"]
    assert a["loss"] == pytest.approx(b["loss"], rel=1e-6)
    np.testing.assert_array_equal(streamed.confusion_matrix, whole.confusion_matrix)
    assert a["f1"] == pytest.approx(b["f1"], rel=1e-12)
    if not weighted:
        e = model.evaluate(x, y, lengths)
        assert a["loss"] == pytest.approx(e["loss"], rel=1e-6)
        assert a["accuracy"] == pytest.approx(e["accuracy"], rel=1e-12)
        assert a["count"] == int(lengths.sum())
    # The weighted mean by hand from predict's logits.
    logits = model.predict(x, lengths).astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    nll = -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    valid = np.arange(T)[None, :] < lengths[:, None]
    w = (np.ones(y.shape) if weights is None else weights) * valid
    assert a["loss"] == pytest.approx((w * nll).sum() / w.sum(), rel=1e-5)
    # Predictions: arg-max of the logits at valid positions of weight > 0.
    keep = w > 0
    want = np.zeros((5, 5), dtype=np.int64)
    np.add.at(want, (y[keep], logits.argmax(axis=-1)[keep]), 1)
    np.testing.assert_array_equal(whole.confusion_matrix, want)


def test_perplexity_and_bits_per_token():
    x, y, lengths = sequence_data()
    model = sequence_model()
    m = Metrics.for_model(model)
    m.update(model, x, y, lengths)
    r = m.result()
    assert r["perplexity"] == pytest.approx(math.exp(r["loss"]), rel=1e-12)
    assert r["bits_per_token"] == pytest.approx(r["loss"] / math.log(2), rel=1e-12)
    # A zero head: uniform logits, perplexity = classes, log2(classes) bits,
    # every tie predicted as class 0.
    state = model.state_dict()
    model.load_state_dict(
        {"head.weight": np.zeros_like(state["head.weight"]), "head.bias": np.zeros(5)},
        strict=False,
    )
    m.reset()
    m.update(model, x, y, lengths)
    r = m.result()
    assert r["perplexity"] == pytest.approx(5, rel=1e-6)
    assert r["bits_per_token"] == pytest.approx(math.log2(5), rel=1e-6)
    assert m.confusion_matrix[:, 1:].sum() == 0


def test_mse_models_accumulate_the_loss_only():
    model = seqrnn.Model("lstm", input_size=2, hidden_size=3, output_size=1, loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 4, 2))
    y = rng.normal(size=(6, 4, 1))
    m = Metrics.for_model(model)
    assert m.num_classes == 0
    m.update(model, x, y, batch_size=4)
    r = m.result()
    assert r["loss"] == pytest.approx(model.evaluate(x, y)["loss"], rel=1e-6)
    assert r["count"] == 24 and math.isnan(r["f1"]) and math.isnan(r["perplexity"])
    with pytest.raises(seqrnn.ShapeError):
        Metrics(1).update(model, x, y)


# -- fit's validation metrics and early stopping ----------------------------------


def test_fit_logs_validation_f1_precision_recall():
    x, y = recall_task(128)
    vx, vy = recall_task(48, seed=9)
    model = seqrnn.Model(
        "gru", vocab_size=V, hidden_size=16, output_size=V, output="last", seed=1
    )
    history = model.fit(
        x, y, epochs=3, batch_size=32, lr=2e-2, validation_data=(vx, vy), verbose=0
    )
    for key in ("val_precision", "val_recall", "val_f1"):
        assert len(history.history[key]) == 3
        assert key in history.params["metrics"]
    m = Metrics.for_model(model)
    m.update(model, vx, vy)
    r = m.result()
    assert history.history["val_f1"][-1] == pytest.approx(r["f1"], rel=1e-12)
    assert history.history["val_precision"][-1] == pytest.approx(
        r["precision"], rel=1e-12
    )
    assert history.history["val_recall"][-1] == pytest.approx(r["recall"], rel=1e-12)
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(vx, vy)["loss"], rel=1e-9
    )
    # MSE models log no classification metrics.
    reg = seqrnn.Model("gru", input_size=1, hidden_size=4, output_size=1, loss="mse")
    xs = np.zeros((8, 3, 1))
    h = reg.fit(
        xs, np.ones((8, 3, 1)), validation_data=(xs, np.ones((8, 3, 1))), verbose=0
    )
    assert sorted(h.history) == ["loss", "val_loss"]


class Recorder(seqrnn.Callback):
    """Keeps the weights at the end of each epoch."""

    def __init__(self):
        super().__init__()
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.state_dict())


def test_auto_mode_maximizes_accuracy_and_f1():
    for monitor in ("val_f1", "val_accuracy", "val_precision", "val_recall", "f1"):
        assert seqrnn.EarlyStopping(monitor=monitor).mode_is_max
    for monitor in ("val_loss", "loss", "val_perplexity"):
        assert not seqrnn.EarlyStopping(monitor=monitor).mode_is_max
    assert seqrnn.EarlyStopping(monitor="val_loss", mode="max").mode_is_max


@pytest.mark.parametrize(
    ("mode", "values", "best", "stopped"),
    [
        ("max", [0.2, 0.5, 0.45, 0.7, 0.6, 0.65, 0.9], 3, 5),
        ("min", [1.0, 0.8, 0.85, 0.7, 0.75, float("nan"), 0.1], 3, 5),
    ],
)
def test_early_stopping_restores_the_best_epoch_exactly(mode, values, best, stopped):
    """Scripted metric values with a known best epoch; the weights change
    every epoch; the callback must put back exactly that epoch's weights."""
    model = sequence_model()
    stop = seqrnn.EarlyStopping(
        monitor="val_f1", mode=mode, patience=2, restore_best_weights=True
    )
    stop.set_model(model)
    stop.set_params({"metrics": ["loss", "val_loss", "val_f1"]})
    stop.on_train_begin({})
    rng = np.random.default_rng(0)
    per_epoch = []
    for epoch, value in enumerate(values):
        model.load_state_dict(
            {k: rng.normal(size=v.shape) for k, v in model.state_dict().items()}
        )
        per_epoch.append(model.state_dict())
        stop.on_epoch_end(epoch, {"val_f1": value})
        if model.stop_training:
            break
    assert stop.stopped_epoch == stopped and stop.best_epoch == best
    assert stop.best == values[best]
    stop.on_train_end({})
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, per_epoch[best][name])


def test_early_stopping_on_val_f1_in_fit():
    x, y = recall_task(128)
    # Validation labels that training makes worse.
    vx = x[:64]
    vy = (x[:64, 0] + 1) % V
    model = seqrnn.Model(
        "gru", vocab_size=V, hidden_size=16, output_size=V, output="last", seed=1
    )
    rec = Recorder()
    stop = seqrnn.EarlyStopping(monitor="val_f1", patience=2, restore_best_weights=True)
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
    f1 = history.history["val_f1"]
    best = int(np.argmax(f1))
    assert history.stopped_early and len(f1) < 20
    assert stop.best_epoch == best and len(f1) - 1 - best == 2
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, rec.weights[best][name])
    m = Metrics.for_model(model)
    m.update(model, vx, vy)
    assert m.result()["f1"] == pytest.approx(f1[best], rel=1e-12)


def test_extension_early_stopping():
    model = sequence_model()
    raw = model._model()
    es = seqrnn._seqrnn.EarlyStopping(False, 1, 0.0)
    assert es.best() is None
    with pytest.raises(seqrnn.UnsupportedError):
        es.restore(raw)
    before = model.state_dict()
    assert es.update(raw, 1.0) is False
    model.load_state_dict({k: v + 1 for k, v in before.items()})
    assert es.update(raw, 2.0) is True
    assert es.best() == (1.0, 0)
    es.restore(raw)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    with pytest.raises(seqrnn.NonFiniteError):
        es.update(raw, float("nan"))
    other = seqrnn.Model("gru", vocab_size=7, hidden_size=9, output_size=5)
    with pytest.raises(seqrnn.ShapeError):
        es.update(other._model(), 0.5)
    with pytest.raises(seqrnn.InvalidArgumentError):
        seqrnn._seqrnn.EarlyStopping(False, -1, 0.0)
    es.close()
    with pytest.raises(seqrnn.InvalidArgumentError, match="closed"):
        es.best()


# -- pretrained embeddings ---------------------------------------------------------

VOCAB = ["<pad>", "the", "cat", "dog", "sat"]


def embedding_model():
    return seqrnn.Model("gru", vocab_size=5, input_size=3, hidden_size=4, output_size=2)


def test_glove_vectors_fill_exactly_the_vocabulary_rows(tmp_path):
    model = embedding_model()
    before = model.state_dict()["embedding.weight"]
    path = tmp_path / "glove.txt"
    path.write_bytes(
        b"the 0.5 -1.25 0.03   \r\nzebra 9 9 9\n\ncat\t1 2 3\r\nthe 7 7 7\nsat -0 0.1 1E2"
    )
    assert model.load_word_vectors(path, VOCAB) == 3
    after = model.state_dict()["embedding.weight"]
    want = before.copy()
    want[1] = np.array([0.5, -1.25, 0.03], dtype=np.float32)  # first "the" wins
    want[2] = [1, 2, 3]
    want[4] = [0, 0.1, 100]
    np.testing.assert_array_equal(after, want)
    assert np.signbit(after[4, 0])  # "-0" kept its sign


def test_word2vec_vectors_and_dict_vocabulary(tmp_path):
    model = embedding_model()
    before = model.state_dict()["embedding.weight"]
    path = tmp_path / "w2v.txt"
    path.write_text("2 3\ndog 1 1 1 \ncat 0.25 0.5 0.75 \n")
    assert model.load_word_vectors(str(path), {"cat": 3, "dog": 0}) == 2
    after = model.state_dict()["embedding.weight"]
    want = before.copy()
    want[3] = [0.25, 0.5, 0.75]
    want[0] = [1, 1, 1]
    np.testing.assert_array_equal(after, want)


@pytest.mark.parametrize(
    ("text", "error", "match"),
    [
        (
            "the 1 2 3\ncat 1 2\n",
            seqrnn.ShapeError,
            r":2: the vector of 'cat' has 2 values",
        ),
        ("the 1 2 3\nzebra 1 2 3 4\n", seqrnn.ShapeError, "'zebra'"),
        ("the 1 2 3\ncat 1 x2 3\n", seqrnn.FormatError, r":2: 'x2'"),
        ("the 1 2 3\ncat 1 nan 3\n", seqrnn.NonFiniteError, ":2:"),
        ("2 4\nthe 1 2 3 4\n", seqrnn.ShapeError, ":1:"),
        ("3 3\nthe 1 2 3\ncat 1 2 3\n", seqrnn.FormatError, "announces 3 vectors"),
    ],
)
def test_word_vector_errors_name_the_line_and_change_nothing(
    tmp_path, text, error, match
):
    model = embedding_model()
    before = model.state_dict()
    path = tmp_path / "bad.txt"
    path.write_text(text)
    with pytest.raises(error, match=match):
        model.load_word_vectors(path, VOCAB)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_word_vector_argument_errors(tmp_path):
    model = embedding_model()
    path = tmp_path / "v.txt"
    path.write_text("the 1 2 3\n")
    with pytest.raises(seqrnn.FileError):
        model.load_word_vectors(tmp_path / "missing.txt", VOCAB)
    with pytest.raises(seqrnn.ShapeError, match="vocab_size"):
        model.load_word_vectors(path, VOCAB[:4])
    with pytest.raises(seqrnn.OutOfRangeError):
        model.load_word_vectors(path, {"the": 5})
    with pytest.raises(seqrnn.InvalidArgumentError):
        model.load_word_vectors(path, "the cat")
    with pytest.raises(seqrnn.InvalidArgumentError):
        model.load_word_vectors(path, ["a", "b", 3, "d", "e"])
    features = seqrnn.Model("gru", input_size=3, hidden_size=4, output_size=2)
    with pytest.raises(seqrnn.UnsupportedError):
        features.load_word_vectors(path, VOCAB)
    with pytest.raises(seqrnn.UnsupportedError):
        features.set_embeddings(np.zeros((5, 3)))


def test_set_embeddings():
    model = embedding_model()
    matrix = np.arange(15, dtype=np.float64).reshape(5, 3) / 7
    model.set_embeddings(matrix)
    np.testing.assert_array_equal(
        model.state_dict()["embedding.weight"], matrix.astype(np.float32)
    )
    with pytest.raises(seqrnn.ShapeError):
        model.set_embeddings(np.zeros((5, 4)))
    with pytest.raises(seqrnn.NonFiniteError):
        model.set_embeddings(np.full((5, 3), np.nan))
    # The same through load_state_dict.
    model.load_state_dict({"embedding.weight": matrix * 2}, strict=False)
    np.testing.assert_array_equal(
        model.state_dict()["embedding.weight"], (matrix * 2).astype(np.float32)
    )

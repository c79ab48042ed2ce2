"""Thread safety and GIL release.

A model is read-only during inference, so many threads may predict on one
model at once and must get exactly what one thread gets; the extension
releases the GIL during compute, so a long predict in one thread leaves the
interpreter free for the others; training in one thread while others predict
is serialised by the model's readers-writer lock instead of racing.
"""

from __future__ import annotations

import threading
import time

import numpy as np

import seqrnn


def run_threads(target, n):
    errors = []

    def wrapper(i):
        try:
            target(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    if errors:
        raise errors[0]


def test_concurrent_predictions_equal_single_thread_results():
    model = seqrnn.Model(
        "lstm",
        input_size=8,
        hidden_size=32,
        num_layers=2,
        bidirectional=True,
        output_size=5,
        seed=3,
    )
    rng = np.random.default_rng(0)
    inputs = [rng.normal(size=(16, 20, 8)).astype(np.float32) for _ in range(4)]
    lengths = [rng.integers(1, 21, size=16) for _ in range(4)]
    expected = [
        model.predict(x, n, batch_size=5, return_state=True)
        for x, n in zip(inputs, lengths)
    ]
    results = {}

    def work(i):
        for repeat in range(10):
            k = (i + repeat) % 4
            results[(i, repeat)] = (
                k,
                model.predict(inputs[k], lengths[k], batch_size=5, return_state=True),
            )

    run_threads(work, 4)
    assert len(results) == 40
    for k, (out, (h, c)) in results.values():
        np.testing.assert_array_equal(out, expected[k][0])
        np.testing.assert_array_equal(h, expected[k][1][0])
        np.testing.assert_array_equal(c, expected[k][1][1])


def test_concurrent_evaluate_and_streams_equal_single_thread_results():
    model = seqrnn.Model("gru", vocab_size=12, hidden_size=16, output_size=12, seed=1)
    rng = np.random.default_rng(1)
    x = rng.integers(0, 12, size=(8, 15))
    y = rng.integers(0, 12, size=(8, 15))
    expected_eval = model.evaluate(x, y)
    with model.stream(8) as s:
        expected_steps = np.stack([s.step(x[:, t]) for t in range(15)], axis=1)
    got = {}

    def work(i):
        if i % 2:
            got[i] = model.evaluate(x, y)
        else:
            with model.stream(8) as s:
                got[i] = np.stack([s.step(x[:, t]) for t in range(15)], axis=1)

    run_threads(work, 6)
    for i, value in got.items():
        if i % 2:
            assert value == expected_eval
        else:
            np.testing.assert_array_equal(value, expected_steps)


def test_long_predict_does_not_block_other_python_threads():
    model = seqrnn.Model("lstm", input_size=32, hidden_size=256, output_size=8, seed=0)
    x = np.random.default_rng(0).normal(size=(256, 320, 32)).astype(np.float32)
    model.predict(x[:2, :2])  # warm up
    window = {}

    def long_predict():
        window["start"] = time.perf_counter()
        model.predict(x, batch_size=len(x))  # one call into the library
        window["end"] = time.perf_counter()

    ticks = []
    worker = threading.Thread(target=long_predict)
    worker.start()
    while worker.is_alive():
        ticks.append(time.perf_counter())
        time.sleep(0.002)
    worker.join()
    duration = window["end"] - window["start"]
    inside = [t for t in ticks if window["start"] < t < window["end"]]
    assert duration > 0.15, (
        f"predict took only {duration:.3f}s; the test needs a longer call"
    )
    # With the GIL held for the whole call the main thread could not tick at
    # all inside the window; released, it ticks every few milliseconds.
    assert len(inside) >= max(10, 0.2 * duration / 0.002), (len(inside), duration)


def test_training_and_predicting_concurrently_is_safe():
    model = seqrnn.Model(
        "gru", input_size=4, hidden_size=32, output_size=3, output="last", seed=2
    )
    rng = np.random.default_rng(2)
    x = rng.normal(size=(256, 12, 4)).astype(np.float32)
    y = rng.integers(0, 3, size=256)
    done = threading.Event()
    outputs = []

    def train(_):
        try:
            model.fit(x, y, epochs=3, batch_size=16, verbose=0)
        finally:
            done.set()

    def predict(_):
        while not done.is_set():
            out = model.predict(x[:64])
            outputs.append(out)

    run_threads(lambda i: train(i) if i == 0 else predict(i), 3)
    assert outputs and all(np.isfinite(o).all() for o in outputs)
    # after training every thread sees the final weights
    final = model.predict(x[:64])
    results = []
    run_threads(lambda i: results.append(model.predict(x[:64])), 3)
    for r in results:
        np.testing.assert_array_equal(r, final)

"""Every error path of the Python API raises a seqrnn.Error subclass (which is
also the matching built-in exception) whose message names the argument and
what was expected -- and never crashes the interpreter."""

from __future__ import annotations

import math
import os
import struct

import numpy as np
import pytest

import seqrnn

I, H, V, O, T = 3, 4, 6, 2, 5


@pytest.fixture
def feat():
    return seqrnn.Model(
        "lstm", input_size=I, hidden_size=H, output_size=O, output="sequence"
    )


@pytest.fixture
def tok():
    return seqrnn.Model(
        "gru", vocab_size=V, hidden_size=H, output_size=V, output="sequence"
    )


@pytest.fixture
def reg():
    return seqrnn.Model(
        "gru", input_size=I, hidden_size=H, output_size=O, output="last", loss="mse"
    )


def x_feat(batch=2, time=T):
    return np.zeros((batch, time, I), dtype=np.float32)


def x_tok(batch=2, time=T):
    return np.ones((batch, time), dtype=np.int64)


def check(exc_info, cls, *fragments):
    """The error is a cls (and a seqrnn.Error) whose message has each fragment."""
    err = exc_info.value
    assert isinstance(err, cls) and isinstance(err, seqrnn.Error), type(err)
    text = str(err)
    for fragment in fragments:
        assert fragment in text, f"{fragment!r} not in {text!r}"
    assert err.message and isinstance(err.status, int) and err.status > 0


def test_exception_tree():
    assert issubclass(seqrnn.ShapeError, ValueError)
    assert issubclass(seqrnn.InvalidArgumentError, ValueError)
    assert issubclass(seqrnn.OutOfRangeError, ValueError)
    assert issubclass(seqrnn.NonFiniteError, ValueError)
    assert issubclass(seqrnn.UnknownNameError, KeyError)
    assert issubclass(seqrnn.UnsupportedError, NotImplementedError)
    assert issubclass(seqrnn.FileError, OSError)
    assert issubclass(seqrnn.FormatError, seqrnn.FileError)
    assert issubclass(seqrnn.OutOfMemoryError, MemoryError)
    for cls in (
        seqrnn.ShapeError,
        seqrnn.FileError,
        seqrnn.FormatError,
        seqrnn.InternalError,
        seqrnn.BufferTooSmallError,
    ):
        assert issubclass(cls, seqrnn.Error)


# -- configuration ---------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"cell": "transformer"}, "cell"),
        ({"cell": 2}, "cell"),
        ({"input_size": None}, "input_size"),
        ({"hidden_size": 0}, "hidden_size"),
        ({"hidden_size": -3}, "hidden_size"),
        ({"hidden_size": 2.5}, "hidden_size"),
        ({"hidden_size": "8"}, "hidden_size"),
        ({"hidden_size": True}, "hidden_size"),
        ({"num_layers": 0}, "num_layers"),
        ({"output_size": 0}, "output_size"),
        ({"input_size": 0}, "input_size"),
        ({"vocab_size": -1}, "vocab_size"),
        ({"output": "all"}, "output"),
        ({"loss": "hinge"}, "loss"),
        ({"seed": -1}, "seed"),
        ({"seed": 2**64}, "seed"),
        ({"bidirectional": "yes"}, "bidirectional"),
    ],
)
def test_bad_configuration(kwargs, fragment):
    args = {
        "cell": "lstm",
        "input_size": 3,
        "hidden_size": 4,
        "output_size": 2,
        **kwargs,
    }
    with pytest.raises(seqrnn.InvalidArgumentError) as info:
        seqrnn.Model(**args)
    check(info, ValueError, fragment)


def test_required_configuration_is_required():
    with pytest.raises(TypeError):
        seqrnn.Model("lstm", input_size=3, output_size=2)  # no hidden_size


# -- inputs ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "x, cls, fragments",
    [
        ("hello", seqrnn.InvalidArgumentError, ["x:"]),
        (np.array([["a", "b"]]), seqrnn.InvalidArgumentError, ["x:", "<U1"]),
        (np.array([[object(), object()]]), seqrnn.InvalidArgumentError, ["x:"]),
        ([[None, 1]], seqrnn.InvalidArgumentError, ["x[0]", "integers"]),
        (np.array([[0.5, 1.0]]), seqrnn.InvalidArgumentError, ["x:", "integers"]),
        (np.array([[True, False]]), seqrnn.InvalidArgumentError, ["x:", "integers"]),
        (np.array([1, 2, 3]), seqrnn.ShapeError, ["x:", "[batch, time]", "(3,)"]),
        ([1, 2, 3], seqrnn.ShapeError, ["x:", "[batch, time]"]),
        (
            np.zeros((2, 3, 1), int),
            seqrnn.ShapeError,
            ["x:", "[batch, time]", "(2, 3, 1)"],
        ),
        (np.zeros((0, 3), int), seqrnn.ShapeError, ["x:", "batch and time >= 1"]),
        (np.zeros((2, 0), int), seqrnn.ShapeError, ["x:"]),
        ([], seqrnn.ShapeError, ["x:"]),
        ([[1, 2], []], seqrnn.ShapeError, ["x[1]", "empty"]),
        ([[1, 2], [[1]]], seqrnn.ShapeError, ["x[1]"]),
        (
            np.array([[0, V]]),
            seqrnn.OutOfRangeError,
            ["x:", f"token id {V}", "[0, 1]", f"[0, {V})"],
        ),
        (np.array([[-1, 0]]), seqrnn.OutOfRangeError, ["x:", "token id -1"]),
        ([[1, 2], [3, 99]], seqrnn.OutOfRangeError, ["token id 99", "[1, 1]"]),
    ],
)
def test_bad_token_inputs(tok, x, cls, fragments):
    with pytest.raises(cls) as info:
        tok.predict(x)
    check(info, cls, *fragments)


@pytest.mark.parametrize(
    "x, cls, fragments",
    [
        (np.array([[["a"] * I]]), seqrnn.InvalidArgumentError, ["x:"]),
        (
            np.zeros((2, T, I), dtype=complex),
            seqrnn.InvalidArgumentError,
            ["x:", "complex"],
        ),
        (
            np.zeros((2, T)),
            seqrnn.ShapeError,
            ["x:", f"[batch, time, {I}]", "(2, 5)", "x[None]"],
        ),
        (
            np.zeros((2, T, I + 1)),
            seqrnn.ShapeError,
            ["x:", f"[batch, time, {I}]", f"input_size={I}"],
        ),
        (np.zeros((2, T, I, 1)), seqrnn.ShapeError, ["x:"]),
        ([np.zeros((3, I)), np.zeros((2, I + 1))], seqrnn.ShapeError, ["x:"]),
        (
            [np.zeros((3, I)), np.zeros(I)],
            seqrnn.ShapeError,
            ["x[1]", "[time, features]"],
        ),
        ([np.zeros((3, I)), np.zeros((0, I))], seqrnn.ShapeError, ["x[1]", "empty"]),
        (np.full((2, T, I), np.nan), seqrnn.NonFiniteError, ["x:", "nan", "[0, 0, 0]"]),
        (
            np.where(np.arange(T)[None, :, None] == 3, np.inf, np.zeros((2, T, I))),
            seqrnn.NonFiniteError,
            ["x:", "inf", "[0, 3, 0]"],
        ),
    ],
)
def test_bad_feature_inputs(feat, x, cls, fragments):
    with pytest.raises(cls) as info:
        feat.predict(x)
    check(info, cls, *fragments)


@pytest.mark.parametrize(
    "lengths, cls, fragments",
    [
        ([T, 0], seqrnn.OutOfRangeError, ["lengths[1] = 0", f"[1, {T}]"]),
        ([T + 1, 1], seqrnn.OutOfRangeError, [f"lengths[0] = {T + 1}", f"[1, {T}]"]),
        ([-2, 1], seqrnn.OutOfRangeError, ["lengths[0] = -2"]),
        ([1, 2, 3], seqrnn.ShapeError, ["lengths:", "[2]"]),
        ([[1, 2]], seqrnn.ShapeError, ["lengths:"]),
        ([1.5, 2], seqrnn.InvalidArgumentError, ["lengths:", "integers"]),
        (["a", "b"], seqrnn.InvalidArgumentError, ["lengths:"]),
        ("12", seqrnn.InvalidArgumentError, ["lengths:"]),
    ],
)
def test_bad_lengths(feat, tok, lengths, cls, fragments):
    for model, x in ((feat, x_feat()), (tok, x_tok())):
        with pytest.raises(cls) as info:
            model.predict(x, lengths)
        check(info, cls, *fragments)


def test_nan_past_a_length_is_not_an_error(feat):
    x = x_feat()
    x[1, 2:] = np.nan
    assert np.isfinite(feat.predict(x, [T, 2])).all()
    with pytest.raises(seqrnn.NonFiniteError):
        feat.predict(x, [T, 3])


def test_bad_batch_size(feat):
    for bs in (0, -1, 1.5, "8"):
        with pytest.raises(seqrnn.InvalidArgumentError) as info:
            feat.predict(x_feat(), batch_size=bs)
        check(info, ValueError, "batch_size")


def test_bad_initial_state(feat, reg):
    with pytest.raises(seqrnn.InvalidArgumentError) as info:
        feat.predict(x_feat(), initial_state=np.zeros((1, 2, H)))
    check(info, ValueError, "initial_state", "(h_0, c_0)")
    with pytest.raises(seqrnn.ShapeError) as info:
        feat.predict(x_feat(), initial_state=(np.zeros((1, 2, H)), np.zeros((1, 3, H))))
    check(info, ValueError, "initial_state[1]", "[1, 2, 4]", "(1, 3, 4)")
    with pytest.raises(seqrnn.ShapeError) as info:
        reg.predict(x_feat(), initial_state=np.zeros((2, H)))
    check(info, ValueError, "initial_state", "[1, 2, 4]")
    with pytest.raises(seqrnn.NonFiniteError):
        reg.predict(x_feat(), initial_state=np.full((1, 2, H), np.nan))


# -- targets --------------------------------------------------------------------


@pytest.mark.parametrize(
    "y, cls, fragments",
    [
        (
            np.zeros((2, T + 1), int),
            seqrnn.ShapeError,
            ["y:", "[batch, time]", f"[2, {T}]", "(2, 6)"],
        ),
        (np.zeros(2, int), seqrnn.ShapeError, ["y:"]),
        (
            np.full((2, T), O),
            seqrnn.OutOfRangeError,
            ["y:", f"class id {O}", f"[0, {O})"],
        ),
        (np.full((2, T), -1), seqrnn.OutOfRangeError, ["y:", "class id -1"]),
        (np.full((2, T), 0.5), seqrnn.InvalidArgumentError, ["y:", "integers"]),
        (np.full((2, T), "a"), seqrnn.InvalidArgumentError, ["y:"]),
        ([[0] * T, [0] * (T - 1)], seqrnn.ShapeError, ["y[1]", f"x[1] has {T}"]),
        (None, seqrnn.InvalidArgumentError, ["y:"]),
    ],
)
def test_bad_class_targets(feat, y, cls, fragments):
    for call in (feat.evaluate, feat.fit, feat.compute_gradients):
        with pytest.raises(cls) as info:
            call(x_feat(), y)
        check(info, cls, *fragments)


@pytest.mark.parametrize(
    "y, cls, fragments",
    [
        (np.zeros((2, O + 1)), seqrnn.ShapeError, ["y:", f"[batch, {O}]", "(2, 3)"]),
        (np.zeros((2, T, O)), seqrnn.ShapeError, ["y:"]),
        (
            np.array([[np.nan, 0.0], [0.0, 0.0]]),
            seqrnn.NonFiniteError,
            ["y:", "[0, 0]"],
        ),
        (np.array([["a", "b"], ["c", "d"]]), seqrnn.InvalidArgumentError, ["y:"]),
    ],
)
def test_bad_value_targets(reg, y, cls, fragments):
    with pytest.raises(cls) as info:
        reg.fit(x_feat(), y, verbose=0)
    check(info, cls, *fragments)


def test_class_targets_past_a_length_are_ignored(tok):
    y = np.zeros((2, T), int)
    y[1, 2:] = -100  # PyTorch's ignore_index habit
    result = tok.evaluate(x_tok(), y, [T, 2])
    assert math.isfinite(result["loss"])


# -- fit options ----------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, cls, fragment",
    [
        ({"epochs": -1}, seqrnn.InvalidArgumentError, "epochs"),
        ({"batch_size": 0}, seqrnn.InvalidArgumentError, "batch_size"),
        ({"lr": 0}, seqrnn.InvalidArgumentError, "lr"),
        ({"lr": float("nan")}, seqrnn.InvalidArgumentError, "lr"),
        ({"lr": "fast"}, seqrnn.InvalidArgumentError, "lr"),
        ({"optimizer": "adagrad"}, seqrnn.InvalidArgumentError, "optimizer"),
        ({"momentum": 1.0}, seqrnn.InvalidArgumentError, "momentum"),
        ({"beta2": -0.1}, seqrnn.InvalidArgumentError, "beta2"),
        ({"epsilon": 0}, seqrnn.InvalidArgumentError, "epsilon"),
        ({"clip_norm": 0}, seqrnn.InvalidArgumentError, "clip_norm"),
        ({"verbose": 3}, seqrnn.InvalidArgumentError, "verbose"),
        ({"seed": -5}, seqrnn.InvalidArgumentError, "seed"),
        ({"callbacks": [object()]}, seqrnn.InvalidArgumentError, "callbacks"),
        (
            {"validation_data": np.zeros(3)},
            seqrnn.InvalidArgumentError,
            "validation_data",
        ),
        (
            {"validation_data": (np.zeros((2, T)), np.zeros((2, T), int))},
            seqrnn.ShapeError,
            "validation_data[0] (x_val)",
        ),
        (
            {"validation_data": (x_feat(), np.zeros((2, 1), int))},
            seqrnn.ShapeError,
            "validation_data[1] (y_val)",
        ),
        (
            {"validation_data": (x_feat(), np.zeros((2, T), int), [0, 1])},
            seqrnn.OutOfRangeError,
            "validation_data[2] (lengths_val)",
        ),
    ],
)
def test_bad_fit_options(feat, kwargs, cls, fragment):
    before = feat.state_dict()
    with pytest.raises(cls) as info:
        feat.fit(x_feat(), np.zeros((2, T), int), **{"verbose": 0, **kwargs})
    check(info, cls, fragment)
    for name, value in feat.state_dict().items():  # nothing was trained
        np.testing.assert_array_equal(value, before[name])


def test_diverging_training_raises_non_finite_and_keeps_the_model(reg):
    x = np.full((4, T, I), 1e30, dtype=np.float32)
    before = reg.state_dict()
    with pytest.raises(seqrnn.NonFiniteError):
        reg.fit(x, np.full((4, O), 1e30), lr=1e10, optimizer="sgd", verbose=0)
    for name, value in reg.state_dict().items():
        np.testing.assert_array_equal(value, before[name])
    assert np.isfinite(reg.predict(x_feat())).all()


# -- other methods ----------------------------------------------------------------


def test_predict_proba_needs_cross_entropy(reg):
    with pytest.raises(seqrnn.InvalidArgumentError) as info:
        reg.predict_proba(x_feat())
    check(info, ValueError, "predict_proba")


def test_generate_errors(feat, tok):
    with pytest.raises(seqrnn.InvalidArgumentError) as info:
        feat.generate([1], 3)
    check(info, ValueError, "token model")
    small = seqrnn.Model("gru", vocab_size=V, hidden_size=H, output_size=2)
    with pytest.raises(seqrnn.InvalidArgumentError) as info:
        small.generate([1], 3)
    check(info, ValueError, "output_size", "vocab_size")
    mse = seqrnn.Model("gru", vocab_size=V, hidden_size=H, output_size=V, loss="mse")
    with pytest.raises(seqrnn.InvalidArgumentError):
        mse.generate([1], 3)
    bi = seqrnn.Model(
        "gru", vocab_size=V, hidden_size=H, output_size=V, bidirectional=True
    )
    with pytest.raises(seqrnn.UnsupportedError) as info:
        bi.generate([1], 3)
    check(info, NotImplementedError, "bidirectional")
    cases = [
        ({"prime": []}, seqrnn.ShapeError, "prime"),
        ({"prime": [[[1, 2]]]}, seqrnn.ShapeError, "prime"),
        ({"prime": [[1, 2], []]}, seqrnn.ShapeError, "prime[1]"),
        ({"prime": [[1, 2], 3]}, seqrnn.ShapeError, "prime"),
        ({"top_k": -1}, seqrnn.InvalidArgumentError, "top_k"),
        ({"top_p": 0.0}, seqrnn.InvalidArgumentError, "top_p"),
        ({"top_p": 1.5}, seqrnn.InvalidArgumentError, "top_p"),
        ({"greedy": "yes"}, seqrnn.InvalidArgumentError, "greedy"),
        ({"seed": -1}, seqrnn.InvalidArgumentError, "seed"),
        ({"prime": "abc"}, seqrnn.InvalidArgumentError, "prime"),
        ({"prime": [1, V]}, seqrnn.OutOfRangeError, "prime"),
        ({"prime": [0.5]}, seqrnn.InvalidArgumentError, "prime"),
        ({"n": -1}, seqrnn.InvalidArgumentError, "n:"),
        ({"n": 2.0}, seqrnn.InvalidArgumentError, "n:"),
        ({"temperature": -1.0}, seqrnn.InvalidArgumentError, "temperature"),
        ({"temperature": float("inf")}, seqrnn.InvalidArgumentError, "temperature"),
    ]
    for kwargs, cls, fragment in cases:
        args = {"prime": [1, 2], "n": 3, **kwargs}
        with pytest.raises(cls) as info:
            tok.generate(**args)
        check(info, cls, fragment)


def test_stream_errors(feat, tok):
    bi = seqrnn.Model(
        "lstm", input_size=I, hidden_size=H, output_size=O, bidirectional=True
    )
    with pytest.raises(seqrnn.UnsupportedError) as info:
        bi.stream()
    check(info, NotImplementedError, "bidirectional", "predict")
    with pytest.raises(seqrnn.InvalidArgumentError):
        feat.stream(batch_size=0)
    s = feat.stream(batch_size=2)
    for x_t, cls, fragment in [
        (np.zeros(I), seqrnn.ShapeError, "[2, 3]"),
        (np.zeros((2, I + 1)), seqrnn.ShapeError, "[2, 3]"),
        (np.full((2, I), np.nan), seqrnn.NonFiniteError, "x_t"),
        ("ab", seqrnn.InvalidArgumentError, "x_t"),
    ]:
        with pytest.raises(cls) as info:
            s.step(x_t)
        check(info, cls, fragment)
    with pytest.raises(seqrnn.ShapeError) as info:
        s.hidden = np.zeros((1, 1, H))
    check(info, ValueError, "hidden", "[1, 2, 4]")
    with pytest.raises(seqrnn.NonFiniteError):
        s.cell = np.full((1, 2, H), np.inf)
    t = tok.stream()
    for x_t, cls in [
        (V, seqrnn.OutOfRangeError),
        (-1, seqrnn.OutOfRangeError),
        ([1, 2], seqrnn.ShapeError),
        (0.5, seqrnn.InvalidArgumentError),
    ]:
        with pytest.raises(cls):
            t.step(x_t)
    with pytest.raises(seqrnn.UnsupportedError) as info:
        _ = t.cell
    check(info, NotImplementedError, "LSTM")
    with pytest.raises(seqrnn.UnsupportedError):
        t.cell = np.zeros((1, 1, H))
    assert t.step(1).shape == (V,)  # still usable after the errors


# -- state dicts and tensor names ------------------------------------------------------------


def test_load_state_dict_errors_change_nothing(feat):
    good = feat.state_dict()
    probe = x_feat() + 0.5
    before = feat.predict(probe)
    bad_shape = dict(good, **{"rnn.weight_hh_l0": np.zeros((4 * H, H + 1))})
    bad_value = dict(good, **{"head.bias": np.array([0.0, np.nan])})
    bad_dtype = dict(good, **{"head.bias": np.array(["a", "b"])})
    unexpected = dict(good, extra=np.zeros(1))
    missing = {k: v for k, v in good.items() if k != "head.bias"}
    bare = {k.replace("rnn.", ""): v for k, v in good.items()}
    cases = [
        (bad_shape, seqrnn.ShapeError, ["rnn.weight_hh_l0", "[16, 4]", "(16, 5)"]),
        (bad_value, seqrnn.NonFiniteError, ["head.bias"]),
        (bad_dtype, seqrnn.InvalidArgumentError, ["head.bias"]),
        (unexpected, seqrnn.UnknownNameError, ["unexpected keys ['extra']"]),
        (missing, seqrnn.UnknownNameError, ["missing keys ['head.bias']"]),
        (bare, seqrnn.UnknownNameError, ["prefix its keys with 'rnn.'"]),
        ([1, 2], seqrnn.InvalidArgumentError, ["mapping"]),
    ]
    for sd, cls, fragments in cases:
        with pytest.raises(cls) as info:
            feat.load_state_dict(sd)
        check(info, cls, *fragments)
        np.testing.assert_array_equal(feat.predict(probe), before)
    assert issubclass(seqrnn.UnknownNameError, KeyError)


def test_unknown_tensor_name_in_the_extension(feat):
    out = np.empty(O, dtype=np.float32)
    with pytest.raises(seqrnn.UnknownNameError) as info:
        feat._m.get_tensor("rnn.weight_ih_l7", out)
    assert isinstance(info.value, KeyError)
    with pytest.raises(seqrnn.UnknownNameError):
        feat._m.set_tensor("nope", out)


# -- files ------------------------------------------------------------------------


def test_missing_file_is_an_oserror(tmp_path):
    with pytest.raises(OSError) as info:
        seqrnn.load(tmp_path / "nope.safetensors")
    check(info, seqrnn.FileError)
    assert not isinstance(info.value, seqrnn.FormatError)


def test_directory_is_an_oserror(tmp_path):
    with pytest.raises(seqrnn.FileError):
        seqrnn.load(tmp_path)


def safetensors(header: bytes, data: bytes = b"") -> bytes:
    """A well-formed safetensors file that is not a seqrnn model."""
    return struct.pack("<Q", len(header)) + header + data


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"garbage, not a model" * 10,
        struct.pack("<Q", 10**12) + b"{}",
        struct.pack("<Q", 2) + b"{}",
        safetensors(b'{"__metadata__": {"format": "pt"}}'),
        safetensors(
            b'{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}',
            b"\0" * 8,
        ),
    ],
    ids=[
        "empty",
        "text",
        "huge-header",
        "no-tensors",
        "foreign-metadata",
        "foreign-tensor",
    ],
)
def test_garbage_file_is_a_format_error(tmp_path, content):
    path = tmp_path / "bad.safetensors"
    path.write_bytes(content)
    with pytest.raises(seqrnn.FormatError) as info:
        seqrnn.load(path)
    check(info, OSError)


def test_truncated_file_is_a_format_error(tmp_path, tok):
    path = tmp_path / "m.safetensors"
    tok.save(path)
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 4):
        path.write_bytes(data[:cut])
        with pytest.raises(seqrnn.FormatError):
            seqrnn.load(path)


def test_save_errors(tmp_path, tok):
    with pytest.raises(seqrnn.FileError) as info:
        tok.save(tmp_path / "no" / "such" / "dir" / "m.safetensors")
    check(info, OSError)
    with pytest.raises(seqrnn.InvalidArgumentError) as info:
        tok.save(12)
    check(info, ValueError, "path")
    assert os.listdir(tmp_path) == []


# -- closed objects -------------------------------------------------------------------


def test_closed_model(tmp_path, tok):
    s = tok.stream()
    tok.close()
    tok.close()  # twice is fine
    assert "(closed)" in repr(tok)
    calls = [
        lambda: tok.predict(x_tok()),
        lambda: tok.evaluate(x_tok(), x_tok()),
        lambda: tok.fit(x_tok(), x_tok(), verbose=0),
        lambda: tok.generate([1], 2),
        lambda: tok.stream(),
        lambda: tok.state_dict(),
        lambda: tok.load_state_dict({}),
        lambda: tok.save(tmp_path / "m.safetensors"),
        lambda: tok.count_params(),
        lambda: tok.compute_gradients(x_tok(), x_tok()),
    ]
    for call in calls:
        with pytest.raises(seqrnn.InvalidArgumentError) as info:
            call()
        check(info, ValueError, "closed")
    # a stream made before keeps its model alive
    assert s.step(1).shape == (V,)


def test_closed_stream(feat):
    s = feat.stream()
    s.close()
    s.close()
    for call in (
        lambda: s.step(np.zeros(I)),
        s.reset,
        lambda: s.hidden,
        lambda: s.cell,
    ):
        with pytest.raises(seqrnn.InvalidArgumentError) as info:
            call()
        check(info, ValueError, "closed")
    with feat.stream() as s2:
        s2.step(np.zeros(I))
    with pytest.raises(seqrnn.Error):
        s2.step(np.zeros(I))


def test_model_as_context_manager_closes():
    with seqrnn.Model("rnn", input_size=1, hidden_size=2, output_size=1) as m:
        m.predict(np.zeros((1, 2, 1)))
    with pytest.raises(seqrnn.Error):
        m.predict(np.zeros((1, 2, 1)))

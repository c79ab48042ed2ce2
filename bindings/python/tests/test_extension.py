"""Tests of the thin C extension seqrnn._seqrnn (bindings/python/src).

They use the extension directly, as the pure-Python layer does: the version
check, the exception tree and every status mapped onto it, the buffer checks
that keep the C API from reading past a caller's buffer, closed objects,
the GIL released during compute, and the locks that make concurrent use of
one Model, State or Trainer safe.

Run against an installed package (``pip install ./bindings/python``), from
any directory but bindings/python itself (where the source tree, which has
no compiled extension, would shadow it).
"""

from __future__ import annotations

import array
import gc
import inspect
import json
import math
import os
import pickle
import shutil
import struct
import subprocess
import sys
import textwrap
import threading
import time
import weakref

import numpy as np
import pytest

try:
    from seqrnn import _seqrnn as ext
except ImportError as error:  # pragma: no cover - a setup problem, not a test
    raise ImportError(
        f"{error}; install the package first: pip install ./bindings/python "
        "(SEQRNN_LIBRARY=path/to/libseqrnn.so skips the Swift build)"
    ) from error

B, T, I, H, L, O = 2, 3, 3, 5, 2, 4


def make_model(**overrides) -> ext.Model:
    params = dict(
        cell=ext.CELL_LSTM,
        input_size=I,
        vocab_size=0,
        hidden_size=H,
        num_layers=L,
        bidirectional=False,
        output_size=O,
        output_mode=ext.OUTPUT_SEQUENCE,
        loss=ext.LOSS_CROSS_ENTROPY,
        seed=1,
    )
    params.update(overrides)
    return ext.Model(**params)


def make_trainer(model: ext.Model, **overrides) -> ext.Trainer:
    params = dict(
        optimizer=ext.OPTIMIZER_ADAM,
        learning_rate=1e-2,
        momentum=0.0,
        beta1=0.9,
        beta2=0.999,
        epsilon=1e-8,
        clip_norm=0.0,
    )
    params.update(overrides)
    return ext.Trainer(model, **params)


@pytest.fixture
def model() -> ext.Model:
    return make_model()


@pytest.fixture
def token_model() -> ext.Model:
    return make_model(cell=ext.CELL_GRU, input_size=0, vocab_size=7)


@pytest.fixture
def x() -> np.ndarray:
    return np.random.default_rng(0).uniform(-1, 1, (B, T, I)).astype(np.float32)


def forward(model: ext.Model, features: np.ndarray, **kwargs) -> np.ndarray:
    batch, steps = features.shape[:2]
    out = np.empty(model.output_count(batch, steps), np.float32)
    model.forward(out, batch_size=batch, seq_len=steps, features=features, **kwargs)
    return out


# ---- versions ----------------------------------------------------------------


def test_versions():
    number = ext.version_number()
    assert number == ext.HEADER_VERSION
    major, minor, patch = (int(p) for p in ext.version_string().split("."))
    assert number == major * 10000 + minor * 100 + patch
    assert isinstance(ext.blas_info(), str) and ext.blas_info()


def test_import_refuses_another_library_version(tmp_path):
    """A library reporting another version number makes the import fail
    (simulated by interposing seqrnn_version_number/_string with LD_PRELOAD)."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the stand-in library")
    source = tmp_path / "fake_version.c"
    source.write_text(
        "unsigned seqrnn_version_number(void) { return 990807; }\n"
        'const char *seqrnn_version_string(void) { return "99.8.7"; }\n'
    )
    fake = tmp_path / "libfake_version.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", fake, source], check=True)
    env = dict(os.environ, LD_PRELOAD=str(fake))
    result = subprocess.run(
        [sys.executable, "-c", "import seqrnn._seqrnn"],
        check=False,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "99.8.7" in result.stderr and ext.version_string() in result.stderr


# ---- the exception tree ----------------------------------------------------------

EXPECTED_CLASSES = {
    ext.E_INVALID_ARGUMENT: ("InvalidArgumentError", ValueError),
    ext.E_NULL_ARGUMENT: ("InvalidArgumentError", ValueError),
    ext.E_SHAPE_MISMATCH: ("ShapeError", ValueError),
    ext.E_OUT_OF_RANGE: ("OutOfRangeError", ValueError),
    ext.E_NON_FINITE: ("NonFiniteError", ValueError),
    ext.E_OUT_OF_MEMORY: ("OutOfMemoryError", MemoryError),
    ext.E_IO: ("FileError", OSError),
    ext.E_BAD_FORMAT: ("FormatError", OSError),
    ext.E_UNSUPPORTED_VERSION: ("FormatError", OSError),
    ext.E_BUFFER_TOO_SMALL: ("BufferTooSmallError", ValueError),
    ext.E_UNKNOWN_NAME: ("UnknownNameError", KeyError),
    ext.E_UNSUPPORTED: ("UnsupportedError", NotImplementedError),
    ext.E_INTERNAL: ("InternalError", Exception),
}


def test_exception_tree():
    assert issubclass(ext.Error, Exception)
    for status, (name, builtin) in EXPECTED_CLASSES.items():
        cls = ext.error_class(status)
        assert cls is getattr(ext, name)
        assert issubclass(cls, ext.Error) and issubclass(cls, builtin)
        assert cls.__doc__
    assert issubclass(ext.FormatError, ext.FileError)
    assert not issubclass(ext.InternalError, ValueError)
    assert ext.error_class(999) is ext.Error
    assert ext.status_string(ext.E_SHAPE_MISMATCH)


def test_exceptions_raised_from_python():
    error = ext.ShapeError("features: expected [2][3][4]")
    assert error.status == ext.E_SHAPE_MISMATCH
    assert error.message == str(error) == "features: expected [2][3][4]"
    # KeyError would quote the text; the message stays as written.
    assert str(ext.UnknownNameError("no tensor 'x'")) == "no tensor 'x'"
    assert ext.Error("x").status == 0
    assert ext.FileError("x", 7).status == 7
    copy = pickle.loads(pickle.dumps(ext.FormatError("bad file", ext.E_BAD_FORMAT)))
    assert type(copy) is ext.FormatError
    assert (copy.message, copy.status) == ("bad file", ext.E_BAD_FORMAT)


def check_error(cls, status, call):
    with pytest.raises(cls) as info:
        call()
    error = info.value
    assert type(error) is cls
    assert error.status == status
    assert error.message and str(error) == error.message
    return error


def test_status_invalid_argument():
    error = check_error(
        ext.InvalidArgumentError, ext.E_INVALID_ARGUMENT, lambda: make_model(cell=9)
    )
    assert "cell" in error.message
    assert isinstance(error, ValueError)


def test_status_null_argument(model):
    out = np.empty(model.output_count(B, T), np.float32)
    error = check_error(
        ext.InvalidArgumentError,
        ext.E_NULL_ARGUMENT,
        lambda: model.forward(out, batch_size=B, seq_len=T),
    )
    assert "features" in error.message


def test_status_shape_mismatch(model):
    check_error(
        ext.ShapeError,
        ext.E_SHAPE_MISMATCH,
        lambda: model.set_tensor("head.bias", np.zeros(O + 1, np.float32)),
    )


def test_status_out_of_range(model, token_model, x):
    out = np.empty(token_model.output_count(B, T), np.float32)
    tokens = np.full((B, T), 7, np.int32)
    check_error(
        ext.OutOfRangeError,
        ext.E_OUT_OF_RANGE,
        lambda: token_model.forward(out, batch_size=B, seq_len=T, tokens=tokens),
    )
    lengths = np.array([T, T + 1], np.int64)
    check_error(
        ext.OutOfRangeError,
        ext.E_OUT_OF_RANGE,
        lambda: forward(model, x, lengths=lengths),
    )


def test_status_non_finite(model, x):
    x[1, 2, 0] = np.nan
    check_error(ext.NonFiniteError, ext.E_NON_FINITE, lambda: forward(model, x))


def test_status_out_of_memory():
    # The state of 2**22 sequences of 4096 units needs 64 GiB: refused
    # before anything is touched.
    big = make_model(
        cell=ext.CELL_RNN_TANH,
        input_size=1,
        hidden_size=4096,
        num_layers=1,
        output_size=1,
    )
    error = check_error(
        ext.OutOfMemoryError, ext.E_OUT_OF_MEMORY, lambda: ext.State(big, 2**22)
    )
    assert isinstance(error, MemoryError)


def test_status_io(model, tmp_path):
    error = check_error(
        ext.FileError,
        ext.E_IO,
        lambda: ext.Model.load(tmp_path / "missing.safetensors"),
    )
    assert isinstance(error, OSError)
    check_error(ext.FileError, ext.E_IO, lambda: model.save(tmp_path / "no" / "dir.st"))


def test_status_bad_format(tmp_path):
    path = tmp_path / "garbage.safetensors"
    path.write_bytes(b"this is not a safetensors file at all")
    check_error(ext.FormatError, ext.E_BAD_FORMAT, lambda: ext.Model.load(path))


def test_status_unsupported_version(model, tmp_path):
    path = tmp_path / "model.safetensors"
    model.save(path)
    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + size])
    header["__metadata__"]["format_version"] = "999"
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    path.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + size :])
    error = check_error(
        ext.FormatError, ext.E_UNSUPPORTED_VERSION, lambda: ext.Model.load(path)
    )
    assert "999" in error.message


def test_status_buffer_too_small(model, x):
    check_error(
        ext.BufferTooSmallError,
        ext.E_BUFFER_TOO_SMALL,
        lambda: model.get_tensor("head.bias", np.zeros(O - 1, np.float32)),
    )
    out = np.empty(model.output_count(B, T) - 1, np.float32)
    check_error(
        ext.BufferTooSmallError,
        ext.E_BUFFER_TOO_SMALL,
        lambda: model.forward(out, batch_size=B, seq_len=T, features=x),
    )


def test_status_unknown_name(model):
    error = check_error(
        ext.UnknownNameError,
        ext.E_UNKNOWN_NAME,
        lambda: model.get_tensor("nope", np.zeros(4, np.float32)),
    )
    assert isinstance(error, KeyError)
    check_error(
        ext.UnknownNameError, ext.E_UNKNOWN_NAME, lambda: model.find_tensor("x")
    )


def test_status_unsupported():
    bidirectional = make_model(bidirectional=True)
    error = check_error(
        ext.UnsupportedError, ext.E_UNSUPPORTED, lambda: ext.State(bidirectional, 1)
    )
    assert isinstance(error, NotImplementedError)


# ---- arguments and buffers ------------------------------------------------------


def test_model_arguments():
    with pytest.raises(TypeError, match="missing required keyword argument 'seed'"):
        ext.Model(
            cell=0,
            input_size=1,
            vocab_size=0,
            hidden_size=1,
            num_layers=1,
            bidirectional=False,
            output_size=1,
            output_mode=0,
            loss=0,
        )
    with pytest.raises(TypeError):
        ext.Model(2, 3, 0, 5, 1, False, 4, 0, 0, 1)  # keyword-only
    with pytest.raises(TypeError, match="cell"):
        make_model(cell="lstm")
    with pytest.raises(TypeError, match="hidden_size"):
        make_model(hidden_size=5.0)
    with pytest.raises(OverflowError, match="seed"):
        make_model(seed=-1)
    with pytest.raises(OverflowError, match="cell"):
        make_model(cell=2**40)
    with pytest.raises(TypeError):
        make_model(colour="red")
    assert (
        make_model(seed=2**64 - 1, hidden_size=np.int64(5)).params()["seed"]
        == 2**64 - 1
    )


def test_params_and_counts(model, token_model):
    params = model.params()
    assert params == dict(
        cell=ext.CELL_LSTM,
        input_size=I,
        vocab_size=0,
        hidden_size=H,
        num_layers=L,
        bidirectional=False,
        output_size=O,
        output_mode=ext.OUTPUT_SEQUENCE,
        loss=ext.LOSS_CROSS_ENTROPY,
        seed=1,
        dropout=0.0,
        head_dropout=0.0,
        recurrent_dropout=0.0,
        zoneout=0.0,
        init=0,
        forget_bias_one=False,
    )
    assert model.output_count(B, T) == B * T * O
    assert model.state_count(B) == L * B * H
    with pytest.raises(ext.InvalidArgumentError):
        model.output_count(0, T)
    assert token_model.params()["vocab_size"] == 7
    defaults = ext.default_model_params()
    assert set(defaults) == set(params)
    assert set(ext.default_train_params()) == {
        "optimizer",
        "learning_rate",
        "momentum",
        "beta1",
        "beta2",
        "epsilon",
        "clip_norm",
        "nesterov",
        "rmsprop_alpha",
        "l2_penalty",
        "weight_decay",
        "clip_value",
        "schedule",
        "step_size",
        "gamma",
        "warmup_steps",
        "total_steps",
        "min_learning_rate",
        "patience",
        "plateau_maximize",
        "stateful",
        "seed",
    }


def test_batch_arguments_required(model, x):
    out = np.empty(model.output_count(B, T), np.float32)
    with pytest.raises(TypeError, match="batch_size"):
        model.forward(out, seq_len=T, features=x)
    with pytest.raises(TypeError):
        model.forward(out, batch_size=B, seq_len=T, features=x, target_classes=None)
    with pytest.raises(TypeError, match="seq_len"):
        model.evaluate(batch_size=B, features=x)
    with pytest.raises(ext.InvalidArgumentError):
        model.forward(out, batch_size=0, seq_len=T, features=x)
    with pytest.raises(ext.InvalidArgumentError):
        model.forward(out, batch_size=B, seq_len=-1, features=x)


@pytest.mark.parametrize(
    "name, value",
    [
        ("features", np.zeros((B, T, I), np.float64)),
        ("features", np.zeros((B, T, I), np.float16)),
        ("features", np.zeros((B, T, I), np.int32)),
        ("features", [[0.0] * I] * (B * T)),
        ("features", np.zeros((B, T, I), np.dtype(">f4"))),
        ("lengths", np.full(B, T, np.int32)),
        ("lengths", np.full(B, T, np.uint64)),
        ("initial_h", np.zeros((L, B, H), np.float64)),
    ],
)
def test_wrong_element_type(model, x, name, value):
    kwargs = {"features": x, name: value}
    out = np.empty(model.output_count(B, T), np.float32)
    with pytest.raises(TypeError, match=name):
        model.forward(out, batch_size=B, seq_len=T, **kwargs)


def test_wrong_token_and_target_types(token_model):
    out = np.empty(token_model.output_count(B, T), np.float32)
    with pytest.raises(TypeError, match="tokens"):
        token_model.forward(
            out, batch_size=B, seq_len=T, tokens=np.zeros((B, T), np.int64)
        )
    tokens = np.zeros((B, T), np.int32)
    with pytest.raises(TypeError, match="target_classes"):
        token_model.evaluate(
            batch_size=B,
            seq_len=T,
            tokens=tokens,
            target_classes=np.zeros((B, T), np.float32),
        )
    with pytest.raises(TypeError, match="outputs"):
        token_model.forward(
            np.empty(out.size, np.float64), batch_size=B, seq_len=T, tokens=tokens
        )


@pytest.mark.parametrize(
    "name, value",
    [
        ("features", np.zeros(B * T * I - 1, np.float32)),
        ("lengths", np.full(B - 1, T, np.int64)),
        ("initial_h", np.zeros(L * B * H - 1, np.float32)),
        ("initial_c", np.zeros((L, B, H - 1), np.float32)),
        ("target_classes", np.zeros((B, T - 1), np.int32)),
    ],
)
def test_too_short_inputs(model, x, name, value):
    kwargs = {"features": x, "target_classes": np.zeros((B, T), np.int32), name: value}
    with pytest.raises(ext.ShapeError, match=name) as info:
        model.evaluate(batch_size=B, seq_len=T, **kwargs)
    assert info.value.status == ext.E_SHAPE_MISMATCH


def test_too_short_tokens_and_values(token_model):
    out = np.empty(token_model.output_count(B, T), np.float32)
    with pytest.raises(ext.ShapeError, match=r"tokens.*\[batch_size=2\]\[seq_len=3\]"):
        token_model.forward(
            out, batch_size=B, seq_len=T, tokens=np.zeros(B * T - 1, np.int32)
        )
    # A token model given features is refused by the C API, and the buffer is
    # still checked against [batch][time][embedding width] first.
    with pytest.raises(ext.ShapeError, match="features"):
        token_model.forward(
            out, batch_size=B, seq_len=T, features=np.zeros(1, np.float32)
        )
    mse = make_model(loss=ext.LOSS_MSE, output_mode=ext.OUTPUT_LAST)
    with pytest.raises(ext.ShapeError, match="target_values"):
        mse.evaluate(
            batch_size=B,
            seq_len=T,
            features=np.zeros((B, T, I), np.float32),
            target_values=np.zeros(B * O - 1, np.float32),
        )
    # The sizes are checked for overflow, not multiplied blindly.
    with pytest.raises(ext.ShapeError):
        mse.evaluate(batch_size=2**62, seq_len=2**62, features=np.zeros(4, np.float32))


def test_non_contiguous_and_read_only(model, x):
    out = np.empty((B, T, O), np.float32)
    with pytest.raises(ext.InvalidArgumentError, match="features.*contiguous"):
        model.forward(out, batch_size=B, seq_len=T, features=np.asfortranarray(x))
    with pytest.raises(ext.InvalidArgumentError, match="features.*contiguous"):
        wide = np.zeros((B, T, 2 * I), np.float32)
        model.forward(out, batch_size=B, seq_len=T, features=wide[:, :, ::2])
    with pytest.raises(ext.InvalidArgumentError, match="outputs.*contiguous"):
        model.forward(
            np.empty((B, T, 2 * O), np.float32)[:, :, :O],
            batch_size=B,
            seq_len=T,
            features=x,
        )
    frozen = np.empty((B, T, O), np.float32)
    frozen.flags.writeable = False
    with pytest.raises(ext.InvalidArgumentError, match="outputs.*read-only"):
        model.forward(frozen, batch_size=B, seq_len=T, features=x)
    with pytest.raises(ext.InvalidArgumentError, match="out.*read-only"):
        model.get_tensor("head.bias", frozen)
    with pytest.raises(TypeError, match="outputs"):
        model.forward(b"\0" * 96, batch_size=B, seq_len=T, features=x)
    # Read-only inputs are fine.
    x.flags.writeable = False
    model.forward(out, batch_size=B, seq_len=T, features=x)


def test_other_buffer_exporters(model, x):
    """Any buffer of the right element type works, numpy or not."""
    expected = forward(model, x)
    features = array.array("f", x.ravel().tolist())
    out = array.array("f", bytes(4 * B * T * O))
    model.forward(memoryview(out), batch_size=B, seq_len=T, features=features)
    np.testing.assert_array_equal(np.frombuffer(out, np.float32), expected)
    lengths = array.array("q", [T, 2])
    model.forward(out, batch_size=B, seq_len=T, features=features, lengths=lengths)
    little = memoryview(x.ravel().astype("<f4").tobytes()).cast("B").cast("f")
    model.forward(out, batch_size=B, seq_len=T, features=little)


# ---- round trips -----------------------------------------------------------------


def test_forward_final_states(model, x):
    out = np.empty((B, T, O), np.float32)
    h = np.empty((L, B, H), np.float32)
    c = np.empty((L, B, H), np.float32)
    model.forward(out, batch_size=B, seq_len=T, features=x, final_h=h, final_c=c)
    # The final states continue the sequence: two halves give the whole.
    first = np.empty((B, 2, O), np.float32)
    h2 = np.empty_like(h)
    c2 = np.empty_like(c)
    model.forward(
        first,
        batch_size=B,
        seq_len=2,
        features=np.ascontiguousarray(x[:, :2]),
        final_h=h2,
        final_c=c2,
    )
    rest = np.empty((B, 1, O), np.float32)
    model.forward(
        rest,
        batch_size=B,
        seq_len=1,
        features=np.ascontiguousarray(x[:, 2:]),
        initial_h=h2,
        initial_c=c2,
    )
    np.testing.assert_allclose(rest[:, 0], out[:, 2], rtol=1e-5, atol=1e-6)
    with pytest.raises(ext.BufferTooSmallError):
        model.forward(
            out, batch_size=B, seq_len=T, features=x, final_h=h, final_c=c[:1]
        )


def test_tensors_round_trip(model, tmp_path):
    tensors = model.tensors()
    names = [name for name, _ in tensors]
    assert names[0] == "rnn.weight_ih_l0" and names[-1] == "head.bias"
    assert dict(tensors)["rnn.weight_hh_l1"] == (4 * H, H)
    assert model.find_tensor("head.weight") == (O, H)
    weight = np.empty((O, H), np.float32)
    model.get_tensor("head.weight", weight)
    model.set_tensor("head.weight", weight * 2)
    again = np.empty_like(weight)
    model.get_tensor("head.weight", again)
    np.testing.assert_array_equal(again, weight * 2)
    with pytest.raises(ext.NonFiniteError):
        model.set_tensor("head.weight", np.full((O, H), np.inf, np.float32))
    with pytest.raises(TypeError, match="name"):
        model.get_tensor(b"head.weight", weight)
    with pytest.raises(ext.InvalidArgumentError, match="NUL"):
        model.get_tensor("head\0weight", weight)
    with pytest.raises(TypeError):
        model.set_tensor("head.weight", None)

    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = ext.Model.load(str(path))
    assert loaded.params() == model.params()
    for name, shape in tensors:
        a = np.empty(shape, np.float32)
        b = np.empty(shape, np.float32)
        model.get_tensor(name, a)
        loaded.get_tensor(name, b)
        np.testing.assert_array_equal(a, b)
    assert ext.Model.load(os.fsencode(path)).params() == model.params()


def test_evaluate(model, x):
    targets = np.zeros((B, T), np.int32)
    loss, accuracy, count = model.evaluate(
        batch_size=B, seq_len=T, features=x, target_classes=targets
    )
    assert loss > 0 and 0 <= accuracy <= 1 and count == B * T
    mse = make_model(loss=ext.LOSS_MSE)
    loss, accuracy, count = mse.evaluate(
        batch_size=B,
        seq_len=T,
        features=x,
        target_values=np.zeros((B, T, O), np.float32),
        lengths=np.array([T, 1], np.int64),
    )
    assert loss > 0 and math.isnan(accuracy) and count == T + 1


def test_state_streaming(model, x):
    state = ext.State(model, B)
    assert state.batch_size == B and state.state_count == L * B * H
    assert state.model is model
    full = forward(model, x).reshape(B, T, O)
    step_out = np.empty((B, O), np.float32)
    for t in range(T):
        state.step(step_out, features=np.ascontiguousarray(x[:, t]))
        np.testing.assert_allclose(step_out, full[:, t], rtol=1e-5, atol=1e-6)
    h = np.empty((L, B, H), np.float32)
    c = np.empty((L, B, H), np.float32)
    state.get(h, c)
    state.reset()
    zeros = np.empty_like(h)
    state.get(zeros)
    assert not zeros.any()
    state.set(h, c)
    again = np.empty_like(h)
    state.get(again)
    np.testing.assert_array_equal(again, h)
    with pytest.raises(ext.ShapeError, match="c"):
        state.set(h, c[:1])
    with pytest.raises(ext.ShapeError):
        state.set(h[:1])
    with pytest.raises(ext.ShapeError, match="features"):
        state.step(step_out, features=np.zeros(B * I - 1, np.float32))
    with pytest.raises(ext.BufferTooSmallError):
        state.step(np.empty(1, np.float32), features=np.ascontiguousarray(x[:, 0]))
    gru_state = ext.State(make_model(cell=ext.CELL_GRU), 1)
    with pytest.raises(ext.UnsupportedError):
        gru_state.get(np.empty(L * H, np.float32), np.empty(L * H, np.float32))


def test_token_state(token_model):
    state = ext.State(token_model, B)
    out = np.empty((B, O), np.float32)
    state.step(out, tokens=np.array([1, 2], np.int32))
    with pytest.raises(ext.ShapeError, match="tokens"):
        state.step(out, tokens=np.array([1], np.int32))
    with pytest.raises(ext.OutOfRangeError):
        state.step(out, tokens=np.array([1, 70], np.int32))


def test_trainer(model, x):
    trainer = make_trainer(model)
    assert trainer.model is model
    targets = np.array([[0, 1, 2], [3, 0, 1]], np.int32)
    batch = dict(batch_size=B, seq_len=T, features=x, target_classes=targets)
    first = trainer.step(**batch)
    for _ in range(30):
        last = trainer.step(**batch)
    assert last < first
    assert trainer.step_count() == 31
    loss = trainer.compute_gradients(**batch)
    assert trainer.step_count() == 31 and loss == pytest.approx(
        model.evaluate(**batch)[0], rel=1e-5
    )
    grad = np.empty((O, H), np.float32)
    trainer.get_gradient("head.weight", grad)
    assert np.abs(grad).sum() > 0
    with pytest.raises(ext.BufferTooSmallError):
        trainer.get_gradient("head.weight", np.empty(3, np.float32))
    with pytest.raises(ext.UnknownNameError):
        trainer.get_gradient("nope", grad)
    trainer.set_learning_rate(1e-3)
    with pytest.raises(ext.InvalidArgumentError):
        trainer.set_learning_rate(-1.0)
    with pytest.raises(TypeError, match="learning_rate"):
        trainer.set_learning_rate("fast")
    with pytest.raises(ext.InvalidArgumentError):
        make_trainer(model, optimizer=5)
    with pytest.raises(
        TypeError, match="missing required keyword argument 'clip_norm'"
    ):
        ext.Trainer(
            model,
            optimizer=1,
            learning_rate=0.1,
            momentum=0.0,
            beta1=0.9,
            beta2=0.999,
            epsilon=1e-8,
        )
    with pytest.raises(TypeError):
        ext.Trainer(object(), **dict(optimizer=1))
    with pytest.raises(ext.ShapeError, match="target_classes"):
        trainer.step(batch_size=B, seq_len=T, features=x, target_classes=targets[:1])


# ---- closed objects and lifetimes ------------------------------------------------


def test_closed_model(model, x, tmp_path):
    state = ext.State(model, B)
    trainer = make_trainer(model)
    model.close()
    assert model.closed
    model.close()  # a no-op
    out = np.empty((B, T, O), np.float32)
    calls = [
        lambda: model.forward(out, batch_size=B, seq_len=T, features=x),
        lambda: model.evaluate(batch_size=B, seq_len=T, features=x),
        lambda: model.params(),
        lambda: model.output_count(B, T),
        lambda: model.state_count(B),
        lambda: model.tensors(),
        lambda: model.find_tensor("head.bias"),
        lambda: model.get_tensor("head.bias", out),
        lambda: model.set_tensor("head.bias", out),
        lambda: model.save(tmp_path / "never-written.safetensors"),
        lambda: ext.State(model, 1),
        lambda: make_trainer(model),
    ]
    for call in calls:
        with pytest.raises(ext.InvalidArgumentError, match="Model is closed"):
            call()
    assert not (tmp_path / "never-written.safetensors").exists()
    # States and trainers made before keep their model alive.
    state.step(np.empty((B, O), np.float32), features=np.ascontiguousarray(x[:, 0]))
    trainer.step(
        batch_size=B, seq_len=T, features=x, target_classes=np.zeros((B, T), np.int32)
    )


def test_closed_state_and_trainer(model, x):
    state = ext.State(model, B)
    state.close()
    state.close()
    assert state.closed and not model.closed
    out = np.empty((B, O), np.float32)
    for call in (
        lambda: state.step(out, features=np.ascontiguousarray(x[:, 0])),
        lambda: state.reset(),
        lambda: state.get(out),
        lambda: state.set(out),
    ):
        with pytest.raises(ext.InvalidArgumentError, match="State is closed"):
            call()
    trainer = make_trainer(model)
    trainer.close()
    assert trainer.closed
    batch = dict(
        batch_size=B, seq_len=T, features=x, target_classes=np.zeros((B, T), np.int32)
    )
    for call in (
        lambda: trainer.step(**batch),
        lambda: trainer.compute_gradients(**batch),
        lambda: trainer.get_gradient("head.bias", out),
        lambda: trainer.set_learning_rate(0.1),
        lambda: trainer.step_count(),
    ):
        with pytest.raises(ext.InvalidArgumentError, match="Trainer is closed"):
            call()
    forward(model, x)  # the model is unaffected


def test_objects_keep_their_model_alive(x):
    model = make_model()
    expected = forward(model, x).reshape(B, T, O)
    model_ref = weakref.ref(model)
    state = ext.State(model, B)
    trainer = make_trainer(model)
    del model
    gc.collect()
    assert model_ref() is not None
    out = np.empty((B, O), np.float32)
    state.step(out, features=np.ascontiguousarray(x[:, 0]))
    np.testing.assert_allclose(out, expected[:, 0], rtol=1e-5, atol=1e-6)
    del state, trainer
    gc.collect()
    assert model_ref() is None


# ---- the GIL and threads ---------------------------------------------------------


def test_gil_released_during_forward():
    """While a long forward runs in one thread, another Python thread keeps
    running: the longest pause between its iterations stays far below the
    forward's duration."""
    big = make_model(input_size=32, hidden_size=512, num_layers=1, output_size=8)
    batch, steps = 16, 64
    while True:  # grow the sequence until one forward takes >= 0.3 s
        features = np.zeros((batch, steps, 32), np.float32)
        out = np.empty(big.output_count(batch, steps), np.float32)
        start = time.perf_counter()
        big.forward(out, batch_size=batch, seq_len=steps, features=features)
        duration = time.perf_counter() - start
        if duration >= 0.3 or steps >= 1 << 16:
            break
        steps *= 2

    started = threading.Event()
    timing = {}

    def run():
        started.set()
        t0 = time.perf_counter()
        big.forward(out, batch_size=batch, seq_len=steps, features=features)
        timing["forward"] = time.perf_counter() - t0

    worker = threading.Thread(target=run)
    worker.start()
    started.wait()
    longest, count = 0.0, 0
    last = time.perf_counter()
    while worker.is_alive():
        now = time.perf_counter()
        longest = max(longest, now - last)
        last = now
        count += 1
    worker.join()
    assert timing["forward"] >= 0.2
    assert longest < timing["forward"] / 3, (longest, timing["forward"], count)


def test_gil_released_during_training_step():
    big = make_model(input_size=32, hidden_size=256, num_layers=1, output_size=8)
    trainer = make_trainer(big)
    batch, steps = 16, 256
    features = np.zeros((batch, steps, 32), np.float32)
    targets = np.zeros((batch, steps), np.int32)
    args = dict(
        batch_size=batch, seq_len=steps, features=features, target_classes=targets
    )
    t0 = time.perf_counter()
    trainer.step(**args)
    duration = time.perf_counter() - t0
    if duration < 0.1:
        args["seq_len"] = steps = int(steps * 0.15 / duration) + 1
        args["features"] = np.zeros((batch, steps, 32), np.float32)
        args["target_classes"] = np.zeros((batch, steps), np.int32)
    worker = threading.Thread(target=lambda: trainer.step(**args))
    ticks = 0
    t0 = time.perf_counter()
    worker.start()
    longest, last = 0.0, time.perf_counter()
    while worker.is_alive():
        now = time.perf_counter()
        longest, last = max(longest, now - last), now
        ticks += 1
    total = time.perf_counter() - t0
    worker.join()
    assert total >= 0.05 and longest < total / 2, (longest, total, ticks)


def test_concurrent_forward_is_deterministic():
    model = make_model(hidden_size=32, num_layers=2, bidirectional=True)
    rng = np.random.default_rng(1)
    inputs = [rng.uniform(-1, 1, (4, 20, I)).astype(np.float32) for _ in range(6)]
    expected = [forward(model, x) for x in inputs]
    results: dict[tuple[int, int], np.ndarray] = {}
    errors = []

    def run(worker: int):
        try:
            for round_ in range(5):
                for k, x in enumerate(inputs):
                    results[(worker, round_ * len(inputs) + k)] = forward(model, x)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 4 * 5 * len(inputs)
    for (_, index), out in results.items():
        np.testing.assert_array_equal(out, expected[index % len(inputs)])


def test_set_tensor_never_overlaps_forward():
    """Forward calls racing with set_tensor see the old or the new weights,
    never a mix."""
    model = make_model(hidden_size=64, num_layers=1)
    shape = model.find_tensor("rnn.weight_hh_l0")
    w_a = np.empty(shape, np.float32)
    model.get_tensor("rnn.weight_hh_l0", w_a)
    w_b = (w_a * -0.5).astype(np.float32)
    x = np.random.default_rng(2).uniform(-1, 1, (8, 50, I)).astype(np.float32)
    ref_a = forward(model, x)
    model.set_tensor("rnn.weight_hh_l0", w_b)
    ref_b = forward(model, x)
    stop = threading.Event()
    bad = []

    def reader():
        while not stop.is_set():
            out = forward(model, x)
            if not (np.array_equal(out, ref_a) or np.array_equal(out, ref_b)):
                bad.append(out)

    readers = [threading.Thread(target=reader) for _ in range(3)]
    for thread in readers:
        thread.start()
    for k in range(200):
        model.set_tensor("rnn.weight_hh_l0", w_a if k % 2 else w_b)
    stop.set()
    for thread in readers:
        thread.join()
    assert not bad


def test_state_and_trainer_serialise_threads(x):
    model = make_model()
    step_in = np.ascontiguousarray(x[:, 0])
    # Sequential reference: 2 * 50 identical steps.
    reference = ext.State(model, B)
    out = np.empty((B, O), np.float32)
    for _ in range(100):
        reference.step(out, features=step_in)
    expected = np.empty((L, B, H), np.float32)
    reference.get(expected)

    state = ext.State(model, B)

    def stream():
        mine = np.empty((B, O), np.float32)
        for _ in range(50):
            state.step(mine, features=step_in)

    threads = [threading.Thread(target=stream) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    got = np.empty_like(expected)
    state.get(got)
    np.testing.assert_array_equal(got, expected)

    trainer = make_trainer(model)
    batch = dict(
        batch_size=B, seq_len=T, features=x, target_classes=np.zeros((B, T), np.int32)
    )

    def train():
        for _ in range(20):
            trainer.step(**batch)
            forward(model, x)  # forward runs alongside steps of the other thread

    threads = [threading.Thread(target=train) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert trainer.step_count() == 60


# ---- documentation ---------------------------------------------------------------


def test_everything_is_documented():
    public = [ext] + [
        getattr(ext, name)
        for name in dir(ext)
        if not name.startswith("_") and callable(getattr(ext, name))
    ]
    for cls in (ext.Model, ext.State, ext.Trainer):
        public += [
            getattr(cls, name)
            for name in dir(cls)
            if not name.startswith("_") and name not in ("mro",)
        ]
    for obj in public:
        assert obj.__doc__ and obj.__doc__.strip(), obj
    forward_signature = inspect.signature(ext.Model.forward)
    assert list(forward_signature.parameters)[:3] == ["self", "outputs", "batch_size"]
    assert "learning_rate" in inspect.signature(ext.Trainer).parameters
    assert "hidden_size" in inspect.signature(ext.Model).parameters
    text = textwrap.dedent(ext.Model.forward.__doc__)
    assert "GIL" in text


# ---- buffers are released on every path ------------------------------------------


def floats(count: int, value: float = 0.0) -> memoryview:
    """A float32 memoryview over a bytearray: memoryview.release() raises
    BufferError while anything still holds a buffer taken from it."""
    view = memoryview(bytearray(4 * count)).cast("f")
    for k in range(count):
        view[k] = value
    return view


def ints(count: int, code: str, value: int) -> memoryview:
    size = 4 if code == "i" else 8
    view = memoryview(bytearray(size * count)).cast(code)
    for k in range(count):
        view[k] = value
    return view


def test_buffers_released_on_every_path(model):
    S = L * B * H
    cases = [
        # success
        ({}, None),
        # the C call fails (non-finite input)
        ({"features": floats(B * T * I, float("nan"))}, ext.NonFiniteError),
        # an input too short, after others were taken
        ({"initial_c": floats(S - 1)}, ext.ShapeError),
        # an output of the wrong type, after the inputs were taken
        ({"final_c": memoryview(bytearray(8 * S)).cast("d")}, TypeError),
        # an output too small for the C call
        ({"outputs": floats(1)}, ext.BufferTooSmallError),
        # lengths out of range
        ({"lengths": ints(B, "q", T + 5)}, ext.OutOfRangeError),
    ]
    for overrides, error in cases:
        views = {
            "outputs": floats(B * T * O),
            "features": floats(B * T * I, 0.5),
            "lengths": ints(B, "q", T),
            "initial_h": floats(S),
            "initial_c": floats(S),
            "final_h": floats(S),
            "final_c": floats(S),
        }
        views.update(overrides)
        outputs = views.pop("outputs")
        if error is None:
            model.forward(outputs, batch_size=B, seq_len=T, **views)
        else:
            with pytest.raises(error):
                model.forward(outputs, batch_size=B, seq_len=T, **views)
        for view in [outputs, *views.values()]:
            view.release()  # BufferError if the extension kept a buffer

    trainer = make_trainer(model)
    for targets, error in (
        (ints(B * T, "i", 0), None),
        (ints(B * T, "i", O), ext.OutOfRangeError),
    ):
        features = floats(B * T * I, 0.25)
        for call in (trainer.step, trainer.compute_gradients, model.evaluate):
            if error is None:
                call(batch_size=B, seq_len=T, features=features, target_classes=targets)
            else:
                with pytest.raises(error):
                    call(
                        batch_size=B,
                        seq_len=T,
                        features=features,
                        target_classes=targets,
                    )
        features.release()
        targets.release()

    out = floats(O - 1)
    with pytest.raises(ext.BufferTooSmallError):
        model.get_tensor("head.bias", out)
    with pytest.raises(ext.ShapeError):
        model.set_tensor("head.bias", out)
    with pytest.raises(ext.BufferTooSmallError):
        trainer.get_gradient("head.bias", out)
    out.release()

    state = ext.State(model, B)
    step_out, step_in, h, c = (
        floats(B * O),
        floats(B * I, 0.1),
        floats(S // L),
        floats(S // L - 1),
    )
    state.step(step_out, features=step_in)
    with pytest.raises(ext.BufferTooSmallError):
        state.get(h, c)
    with pytest.raises(ext.ShapeError):
        state.set(h, c)
    for view in (step_out, step_in, h, c):
        view.release()

"""The documentation runs: every seqrnn module's doctests, ``help()`` of the
public classes, and the ``python`` code blocks of the repository's README.md (in order,
in one namespace; a block whose first line is ``# requires: NAME`` runs only
where NAME can be imported)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import io
import pkgutil
import pydoc
import re
import traceback
from contextlib import redirect_stdout
from pathlib import Path

import pytest

import seqrnn

# The repository README, whose Python examples must run.
README = Path(__file__).resolve().parents[3] / "README.md"
MODULES = sorted(
    {"seqrnn"}
    | {
        f"seqrnn.{m.name}"
        for m in pkgutil.iter_modules(seqrnn.__path__)
        if m.name != "_seqrnn"
    }
)
# Modules whose docstrings must carry examples (so losing them fails).
DOCUMENTED = {
    "seqrnn",
    "seqrnn.model",
    "seqrnn.stream",
    "seqrnn.callbacks",
    "seqrnn.errors",
}


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module = importlib.import_module(name)
    result = doctest.testmod(
        module,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
        verbose=False,
    )
    assert result.failed == 0, (
        f"{result.failed} doctest(s) failed in {name} (output above)"
    )
    if name in DOCUMENTED:
        assert result.attempted > 0, f"{name} has no doctests"


def test_public_api_is_documented():
    for name in seqrnn.__all__:
        obj = getattr(seqrnn, name)
        if name == "__version__":
            assert re.fullmatch(r"\d+\.\d+\.\d+", obj)
            continue
        assert obj.__doc__ and obj.__doc__.strip(), f"seqrnn.{name} has no docstring"
    for cls in (seqrnn.Model, seqrnn.Stream, seqrnn.Callback, seqrnn.EarlyStopping):
        for name, member in vars(cls).items():
            if name.startswith("_"):
                continue
            if callable(member) or isinstance(
                member, (property, classmethod, staticmethod)
            ):
                assert inspect.getdoc(getattr(cls, name)), (
                    f"{cls.__name__}.{name} has no docstring"
                )


def test_help_renders():
    text = pydoc.render_doc(seqrnn.Model, renderer=pydoc.plaintext)
    for word in (
        "fit(",
        "predict(",
        "generate(",
        "state_dict(",
        "stream(",
        "hidden_size",
    ):
        assert word in text
    buffer = io.StringIO()
    with redirect_stdout(buffer):
        help(seqrnn)
    assert "Model" in buffer.getvalue()


def readme_blocks():
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, re.DOTALL | re.MULTILINE):
        line = text.count("\n", 0, match.start()) + 2
        blocks.append((line, match.group(1)))
    return blocks


def test_readme_has_python_examples():
    assert len(readme_blocks()) >= 5


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "__readme__"}
    ran = 0
    for line, code in readme_blocks():
        first = code.splitlines()[0] if code.strip() else ""
        required = re.match(r"#\s*requires:\s*(\S+)", first)
        if required:
            try:
                importlib.import_module(required.group(1))
            except ImportError:
                continue
        try:
            # Running the README's own examples is the point of this test.
            exec(compile(code, f"{README.name}:{line}", "exec"), namespace)  # noqa: S102
        except Exception:  # noqa: BLE001 - any failure is reported with its block
            pytest.fail(
                f"README.md block at line {line} failed:\n{traceback.format_exc()}"
            )
        ran += 1
    assert ran >= 5

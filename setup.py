"""`pip install .` at the repository root: the same package as
`pip install ./bindings/python`, built by bindings/python/build_support.py
from the sources in bindings/python (see that file for SEQRNN_LIBRARY)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "bindings" / "python"))

from build_support import find_repository, setup_package  # noqa: E402

setup_package(find_repository(), ROOT / "bindings" / "python")

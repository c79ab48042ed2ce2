"""Builds the seqrnn package: libseqrnn.so (Swift) and the C extension
seqrnn._seqrnn next to it. Metadata is in pyproject.toml; the build steps and
the environment variables they honour (SEQRNN_LIBRARY to package an already
built library) are in build_support.py."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from build_support import HERE, find_repository, setup_package

setup_package(find_repository(), HERE)

"""Build support for the seqrnn Python package.

Shared by ``bindings/python/setup.py`` (``pip install ./bindings/python``)
and the repository root's ``setup.py`` (``pip install .``).

The build:

1. gets ``libseqrnn.so``: by running ``swift build -c release --product
   seqrnn`` at the repository root, or, when the environment variable
   ``SEQRNN_LIBRARY`` names an already built ``libseqrnn.so``, by taking that
   file and skipping the Swift build;
2. copies it into the built package as ``seqrnn/libseqrnn.so.0`` (its
   SONAME);
3. compiles the extension ``seqrnn._seqrnn`` from ``bindings/python/src``
   against ``<repo>/include/seqrnn.h`` and links it to that copy with the
   run path ``$ORIGIN``, so the installed package finds its library next to
   the extension, from any directory, without ``LD_LIBRARY_PATH``.

Environment variables:

``SEQRNN_LIBRARY``
    Absolute path of a built ``libseqrnn.so`` (or ``libseqrnn.so.0``) to package
    instead of running the Swift build. It must come from the same checkout:
    the extension refuses, at import, a library whose version differs from
    the header it was compiled with.
``SEQRNN_SWIFT_SCRATCH_PATH``
    Passed to ``swift build --scratch-path`` (default: the package's
    ``.build``), e.g. to stay out of a ``.build`` that another build holds.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SONAME = "libseqrnn.so.0"
HERE = Path(__file__).resolve().parent  # bindings/python


def find_repository() -> Path:
    """The repository root: two levels above bindings/python, holding
    Package.swift and include/seqrnn.h."""
    repo = HERE.parent.parent
    if (
        not (repo / "Package.swift").is_file()
        or not (repo / "include" / "seqrnn.h").is_file()
    ):
        raise SystemExit(
            f"seqrnn: cannot build: {repo} is not the seqrnn repository (no "
            "Package.swift and include/seqrnn.h there). Build from a checkout "
            "of the repository: pip install ./bindings/python"
        )
    return repo


def header_version(repo: Path) -> str:
    """MAJOR.MINOR.PATCH from include/seqrnn.h, the package's version."""
    text = (repo / "include" / "seqrnn.h").read_text(encoding="utf-8")
    parts = []
    for part in ("MAJOR", "MINOR", "PATCH"):
        match = re.search(rf"#define SEQRNN_VERSION_{part} (\d+)", text)
        if match is None:
            raise SystemExit(f"seqrnn: SEQRNN_VERSION_{part} not found in seqrnn.h")
        parts.append(match.group(1))
    return ".".join(parts)


def _swift_build(repo: Path) -> Path:
    """Builds libseqrnn.so with SwiftPM and returns its path."""
    swift = shutil.which("swift")
    if swift is None:
        raise SystemExit(
            "seqrnn: cannot build libseqrnn.so: `swift` is not on PATH. Install "
            "Swift 6.3 (swift.org), or set SEQRNN_LIBRARY to an already built "
            "libseqrnn.so."
        )
    args = [swift, "build", "-c", "release", "--product", "seqrnn"]
    scratch = os.environ.get("SEQRNN_SWIFT_SCRATCH_PATH")
    if scratch:
        args += ["--scratch-path", scratch]
    print("seqrnn: building libseqrnn.so:", " ".join(args), flush=True)
    try:
        subprocess.run(args, cwd=repo, check=True)
        bin_path = subprocess.run(
            args[:4] + args[6:] + ["--show-bin-path"],
            cwd=repo,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    except subprocess.CalledProcessError as error:
        raise SystemExit(
            f"seqrnn: `{' '.join(error.cmd)}` failed with status {error.returncode} "
            f"in {repo}"
        ) from error
    library = Path(bin_path) / "libseqrnn.so"
    if not library.is_file():
        raise SystemExit(f"seqrnn: the Swift build did not produce {library}")
    return library


def find_library(repo: Path) -> Path:
    """The libseqrnn.so to package: $SEQRNN_LIBRARY, else a fresh Swift build."""
    given = os.environ.get("SEQRNN_LIBRARY")
    if given:
        library = Path(given).expanduser().resolve()
        if not library.is_file():
            raise SystemExit(
                f"seqrnn: SEQRNN_LIBRARY={given} is not a file (expected a "
                "built libseqrnn.so)"
            )
        print(f"seqrnn: using SEQRNN_LIBRARY={library} (no Swift build)", flush=True)
        return library
    return _swift_build(repo)


class BuildExt(build_ext):
    """build_ext that provides libseqrnn.so next to the extension and links
    the extension to it with run path $ORIGIN."""

    def run(self) -> None:
        self._library = find_library(find_repository())
        super().run()

    def build_extensions(self) -> None:
        # Some Pythons (pyenv's, for one) put a run path to their own lib/
        # into LDSHARED. The extension does not link libpython, and that
        # directory must not be searched before $ORIGIN for libseqrnn.so.0.
        self.compiler.linker_so = [
            arg
            for arg in self.compiler.linker_so
            if not arg.startswith(("-Wl,-rpath,", "-Wl,-rpath=", "-Wl,-R"))
        ]
        super().build_extensions()

    def _library_copy(self, ext: Extension) -> Path:
        return Path(self.get_ext_fullpath(ext.name)).parent / SONAME

    def build_extension(self, ext: Extension) -> None:
        target = self._library_copy(ext)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        shutil.copyfile(self._library, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)  # never rewrite a library a process has mapped
        ext.extra_link_args = [str(target), "-Wl,-rpath,$ORIGIN"]
        # The extension needs relinking only when its sources or the header
        # change (ext.depends); a new library is picked up at run time.
        super().build_extension(ext)

    def get_outputs(self) -> list[str]:
        return super().get_outputs() + [
            str(self._library_copy(ext)) for ext in self.extensions
        ]


def _build_base() -> str:
    """A fresh build folder for this process, removed when it exits.

    pip builds in the source tree; setuptools' default build/ there would be
    an untracked folder, shared by concurrent builds, whose stale files (a
    module deleted from the sources) would still ship in the next wheel.
    """
    path = tempfile.mkdtemp(prefix="seqrnn-build-")
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def setup_package(repo: Path, package_root: Path) -> None:
    """Calls setuptools.setup for the package whose sources are in
    package_root (bindings/python), from a setup.py whose directory is the
    current one. Metadata is in the pyproject.toml beside that setup.py."""
    base = Path.cwd()
    root = os.path.relpath(package_root, base)
    sources = sorted(
        os.path.relpath(path, base) for path in (package_root / "src").glob("*.c")
    )
    depends = [
        os.path.relpath(path, base) for path in (package_root / "src").glob("*.h")
    ] + [str(repo / "include" / "seqrnn.h"), str(HERE / "build_support.py")]
    extension = Extension(
        "seqrnn._seqrnn",
        sources=sources,
        depends=depends,
        include_dirs=[str(repo / "include")],
    )
    setup(
        version=header_version(repo),
        packages=["seqrnn"],
        package_dir={"seqrnn": os.path.join(root, "seqrnn")},
        package_data={"seqrnn": ["py.typed", "*.pyi"]},
        ext_modules=[extension],
        cmdclass={"build_ext": BuildExt},
        options={"build": {"build_base": _build_base()}},
    )

"""The project's code as Spark ships it: a zip for ``--py-files`` (spark-submit.sh) or a wheel (the DAG).

Both are written into the cache folder (``lib.conf.cache_dir``), never beside the sources or in the
working directory:

    code_zip(root, cache)           # <cache>/code/webfaq_spark.zip: jobs/, lib/, udfs/ (pure Python)
    build_wheel(root, cache)        # <cache>/dist/webfaq_spark-<version>-py3-none-any.whl (python -m build)
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

#: The packages of the project (setup.py's ``packages``): what the executors import.
PACKAGES = ("jobs", "lib", "udfs")
#: What ``python -m build`` needs of the source tree.
SOURCES = ("setup.py", "README.md", *PACKAGES)


class PackageError(RuntimeError):
    """The wheel could not be built; the message says why (the build's last lines)."""


def project_version(root: str | os.PathLike) -> str:
    """The version setup.py declares (``version="0.1.0"``)."""
    text = Path(root, "setup.py").read_text(encoding="utf-8")
    found = re.search(r"""\bversion\s*=\s*["']([^"']+)["']""", text)
    if not found:
        raise PackageError(f"no version=... in {Path(root, 'setup.py')}")
    return found.group(1)


def wheel_name(root: str | os.PathLike) -> str:
    """The file name ``python -m build`` gives the project's wheel (a pure-Python one)."""
    return f"webfaq_spark-{project_version(root)}-py3-none-any.whl"


def _python_files(root: Path):
    for package in PACKAGES:
        for folder, dirs, files in os.walk(root / package):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                if not name.endswith((".pyc", ".pyo")):
                    yield Path(folder, name)


def code_zip(root: str | os.PathLike, cache: str | os.PathLike) -> str:
    """Zip ``jobs/``, ``lib/`` and ``udfs/`` of ``root`` into ``<cache>/code/webfaq_spark.zip``
    (written under a temporary name and renamed: a run starting meanwhile never reads half a zip)."""
    root, out = Path(root).resolve(), Path(cache, "code", "webfaq_spark.zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".webfaq_spark-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in _python_files(root):
                zf.write(path, path.relative_to(root).as_posix())
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(out)


def build_wheel(root: str | os.PathLike, cache: str | os.PathLike, python: str | None = None) -> str:
    """Build the project's wheel with ``python -m build`` into ``<cache>/dist`` and return its path.

    The sources are copied to a temporary folder first, so that setuptools' ``build/`` and
    ``*.egg-info`` folders land there and not in the checkout. ``--no-isolation``: the build uses
    the setuptools of ``python`` (the project's venv) and needs no package index. Where ``python``
    has no ``build`` package (``pip install -e .[dev]`` brings it), pip builds the same wheel
    through the same setuptools backend (``pip wheel --no-deps --no-build-isolation``).
    """
    root, dist = Path(root).resolve(), Path(cache, "dist")
    dist.mkdir(parents=True, exist_ok=True)
    name = wheel_name(root)
    with tempfile.TemporaryDirectory(prefix="webfaq-wheel-", dir=dist) as tmp:
        for item in SOURCES:
            source = root / item
            if source.is_dir():
                shutil.copytree(source, Path(tmp, item), ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif source.is_file():
                shutil.copy2(source, Path(tmp, item))
        python = python or sys.executable
        has_build = subprocess.run([python, "-c", "import build"], capture_output=True, cwd=tmp).returncode == 0
        command = ([python, "-m", "build", "--wheel", "--no-isolation", "--outdir", tmp, tmp] if has_build else
                   [python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", tmp, tmp])
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp)
        built = Path(tmp, name)
        if result.returncode != 0 or not built.is_file():
            tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-5:])
            raise PackageError(f"{' '.join(command[:5])} failed (exit {result.returncode}): {tail}")
        os.replace(built, dist / name)
    return str(dist / name)


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m lib.package", description="Build what ships the project's code to Spark.",
        epilog="example: python -m lib.package wheel --out dist    # make wheel; then install it into the cluster's "
               "Python (image, venv-pack archive) or upload it for Databricks")
    parser.add_argument("command", choices=["wheel", "zip"], help="wheel: python -m build --wheel; zip: the --py-files zip")
    parser.add_argument("--out", default=None, help="folder to write into (default: the cache folder's dist/ or code/)")
    args = parser.parse_args(argv)
    from lib.conf import cache_dir

    root = Path(__file__).resolve().parent.parent
    try:
        if args.command == "zip":
            built = code_zip(root, cache_dir())
        else:
            built = build_wheel(root, cache_dir())
        if args.out:
            Path(args.out).mkdir(parents=True, exist_ok=True)
            built = shutil.copy2(built, Path(args.out, Path(built).name))
    except PackageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(built)
    return 0


if __name__ == "__main__":
    sys.exit(main())

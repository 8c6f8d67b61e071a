"""Packaging: what a built wheel carries, and that ``lapak demo`` runs from it alone.

The slow test builds the project's wheel, installs it (and only it) into a fresh virtualenv
and runs that venv's ``lapak demo`` from an empty folder: the samples it copies out, the
Alembic migrations it runs and every module it imports come from the installed wheel, not from
this checkout. One shortcut: the fresh venv reaches the project's pinned dependencies through a
``.pth`` line naming the site-packages of the venv running these tests, instead of downloading
and installing them again. (Building the wheel itself still needs pip's isolated build
environment, i.e. setuptools from the configured package index.)

The fast test proves the ``sandbox`` extra's split: the parent side of the sandbox
(``running_sandbox``, ``SandboxAdmin`` …) imports without FastAPI and uvicorn, and starting the
server without them fails with one line naming the extra.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CATALOGUES = [
    "banyuwangi/batik-gajah-oling.csv",
    "indramayu/srikandi-kenanga.xlsx",
    "jember/anyaman-pandan-sari.csv",
    "wonosobo/sekar-carica.xlsx",
]
# The photos the Wonosobo group keeps as files in foto/ beside its catalogue (flows/samples/make_samples.py).
PHOTOS = sorted(p.relative_to(ROOT / "flows" / "samples" / "catalogues").as_posix()
                for p in (ROOT / "flows" / "samples" / "catalogues" / "wonosobo" / "foto").glob("*.jpg"))
SAMPLE_FILES = sorted(CATALOGUES + PHOTOS)
WEB_SERVER_MISSING = "the sandbox needs its web server: pip install 'lapak-desa[sandbox]'"
# What a wheel is built from (pyproject.toml names README.md; the packages are found under these).
BUILD_INPUTS = ["pyproject.toml", "README.md", "flows", "connectors", "schemas"]


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{cmd[:4]} exited {proc.returncode}:\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    return proc


def _build_wheel(tmp_path: Path) -> Path:
    """``pip wheel --no-deps`` of a clean copy of the sources (no build/ or egg-info left in the checkout,
    and no stale build/lib files carried into the wheel)."""
    src = tmp_path / "src"
    src.mkdir()
    for name in BUILD_INPUTS:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "out", "var"))
        else:
            shutil.copy2(path, src / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path / "dist"), str(src)],
         timeout=240)
    (wheel,) = (tmp_path / "dist").glob("lapak_desa-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> tuple[Path, Path]:
    """A new venv holding the wheel alone, plus a ``.pth`` line to this venv's pinned dependencies."""
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=60)
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet", "--no-deps", "--no-index",
          str(wheel)], timeout=120)
    site = Path(_run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                     timeout=30).stdout.strip())
    # A directory named in a .pth is only put on sys.path: the .pth files inside it (this
    # venv's editable install of the checkout) are not run, so the checkout stays invisible.
    (site / "lapak-pinned-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    return venv, site


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("LAPAK_", "PREFECT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(extra)
    return env


def _check_wheel(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        (meta_name,) = [n for n in names if n.endswith(".dist-info/METADATA")]
        meta = Parser().parsestr(zf.read(meta_name).decode())
    assert "flows/samples/lapak.toml" in names
    assert len(PHOTOS) >= 5 and all(p.startswith("wonosobo/foto/") for p in PHOTOS), PHOTOS
    assert {f"flows/samples/catalogues/{c}" for c in SAMPLE_FILES} <= names, "the catalogues and their photos"
    assert "connectors/state/migrations/env.py" in names
    assert "connectors/state/migrations/script.py.mako" in names
    assert any(n.startswith("connectors/state/migrations/versions/") and n.endswith(".py") for n in names), names

    assert "sandbox" in meta.get_all("Provides-Extra")
    requires = meta.get_all("Requires-Dist")
    web = [r for r in requires if r.split(";")[0].strip().lower().startswith(("fastapi", "uvicorn"))]
    assert len(web) == 2 and all('extra == "sandbox"' in r for r in web), web


@pytest.mark.slow
def test_demo_runs_from_the_built_wheel_in_a_fresh_venv(prefect_server, tmp_path):
    """The wheel carries the samples and migrations and declares FastAPI/uvicorn only under the
    ``sandbox`` extra; installed alone into a fresh venv, its ``lapak demo`` completes from an empty
    folder with the same outcome as from the checkout, on samples copied out of the installed package.

    Shortcut: the fresh venv finds its dependencies through a ``.pth`` naming this test run's
    site-packages (the project's pinned set), not by downloading them again.
    """
    from prefect.settings import PREFECT_API_URL

    wheel = _build_wheel(tmp_path)
    _check_wheel(wheel)
    venv, site = _fresh_venv(tmp_path, wheel)
    python = venv / "bin" / "python"
    empty = tmp_path / "empty"
    empty.mkdir()

    # The code comes from the wheel in the fresh venv, not from this checkout.
    where = _run([str(python), "-c", ("import connectors, flows, schemas; "
                                      "print(flows.__file__, connectors.__file__, schemas.__file__, sep='\\n')")],
                 cwd=empty, env=_clean_env(), timeout=60).stdout.split()
    assert len(where) == 3 and all(Path(p).is_relative_to(site) for p in where), (where, site)

    env = _clean_env(PREFECT_API_URL=PREFECT_API_URL.value(), PREFECT_SERVER_ANALYTICS_ENABLED="false",
                     PREFECT_HOME=str(tmp_path / "prefect-home"))
    work = tmp_path / "demo"
    proc = subprocess.run([str(venv / "bin" / "lapak"), "demo", "--keep", str(work)], env=env, cwd=empty,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "48 products listed from 4 village groups; 21 catalogue rows sent back to be fixed." in proc.stdout
    assert "3 orders pulled (2 kept, 1 cancelled)" in proc.stdout
    expected = json.loads((ROOT / "flows" / "samples" / "expected_rejects.json").read_text(encoding="utf-8"))
    uploads = expected["totals"]["photos_to_upload"]
    assert re.search(rf"^\s+{uploads} photos uploaded from the groups' own files", proc.stdout, re.M), \
        "the photo files were found in the installed package and uploaded"

    # The demo's samples are the installed package's: its config, the four catalogues and the photos, byte for byte.
    samples, shipped = work / "samples", site / "flows" / "samples"
    assert (samples / "lapak.toml").is_file()
    copied = sorted(p.relative_to(samples / "catalogues").as_posix()
                    for p in (samples / "catalogues").rglob("*") if p.is_file())
    assert copied == SAMPLE_FILES
    assert all((samples / "catalogues" / c).read_bytes() == (shipped / "catalogues" / c).read_bytes()
               for c in SAMPLE_FILES)


# fastapi, uvicorn (and starlette, under fastapi) made unimportable in a subprocess.
BLOCK_WEB = "import sys; sys.modules.update(fastapi=None, uvicorn=None, starlette=None); "


def test_sandbox_package_imports_without_the_web_server(tmp_path):
    """Without FastAPI and uvicorn, ``connectors.sandbox`` and every name it exports still import
    (what tests and the demo need in the parent process), and ``running_sandbox`` refuses with the
    one-line message before starting anything."""
    proc = _run([sys.executable, "-c", BLOCK_WEB + (
        "import connectors.sandbox as sb\n"
        "from connectors.sandbox import (SandboxAdmin, SandboxAdminError, SandboxHandle, SandboxSettings,\n"
        "    SandboxStartError, running_sandbox)\n"
        "from schemas.errors import LapakError\n"
        "assert all(hasattr(sb, name) for name in sb.__all__)\n"
        "try:\n"
        "    with running_sandbox(sys.argv[1]):\n"
        "        raise SystemExit('started without a web server')\n"
        "except LapakError as err:\n"
        "    print(err)\n"), str(tmp_path / "sb")], cwd=tmp_path, env=_clean_env(PYTHONPATH=str(ROOT)), timeout=60)
    assert proc.stdout.strip() == WEB_SERVER_MISSING
    assert not (tmp_path / "sb").exists()


@pytest.mark.parametrize("entry, prefix", [
    ("from flows.cli import main; sys.exit(main(['sandbox', '--data', sys.argv[1]]))", "lapak sandbox: "),
    ("import runpy; sys.argv[1:] = ['--data', sys.argv[1]]; "
     "runpy.run_module('connectors.sandbox', run_name='__main__')",
     "python -m connectors.sandbox: "),
], ids=["lapak sandbox", "python -m connectors.sandbox"])
def test_sandbox_server_without_the_extra_fails_in_one_line(tmp_path, entry, prefix):
    """Without FastAPI and uvicorn, ``lapak sandbox`` and ``python -m connectors.sandbox`` exit 1
    printing one line that names the extra to install, and create nothing."""
    proc = subprocess.run([sys.executable, "-c", BLOCK_WEB + entry, str(tmp_path / "sb")], cwd=tmp_path,
                          env=_clean_env(PYTHONPATH=str(ROOT)), capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.splitlines() == [prefix + WEB_SERVER_MISSING]
    assert not (tmp_path / "sb").exists()

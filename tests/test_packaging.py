"""OSS as a technician installs it: a wheel built from this repository, installed into a fresh virtual
environment and run from an empty folder.

Installing every dependency into a fresh environment would take minutes and need the package index, so
the fresh environment sees the dependencies of the one running the tests (a ``.pth`` file naming its
site-packages, written after the wheel is installed with ``--no-deps``): OSS's own files come only
from the wheel, and the current folder holds nothing but what the run writes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

import pytest

from tests.conftest import ROOT

SOURCES = ("pyproject.toml", "setup.py", "README.md", "oss", "instructions")
JUNK = ("__pycache__", "*.pyc", "*.egg-info", "build")
SETUPTOOLS_MIN = (77, 0)  # SPDX licence string in pyproject.toml


def _need_setuptools() -> None:
    try:
        version = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        version = "0"
    if tuple(int(x) for x in version.split(".")[:2] if x.isdigit()) < SETUPTOOLS_MIN:
        msg = (
            f"building the wheel without build isolation needs setuptools >= 77 (found {version}): "
            "install the dev extra (make install)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(msg)
        pytest.skip(msg)


def _run(cmd: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (
        f"{' '.join(cmd)}: rc {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    return proc


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the repository's package sources (no network: no build isolation)."""
    _need_setuptools()
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns(*JUNK))
        else:
            shutil.copy2(path, src / name)
    dist = tmp / "dist"
    cmd = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index"]
    _run([*cmd, "--wheel-dir", str(dist), str(src)], tmp, dict(os.environ), 600)
    wheels = sorted(dist.glob("oss-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def _expected_files() -> set[str]:
    """Every file of the package in the repository, as the wheel names it."""
    out: set[str] = set()
    for top, prefix in ((ROOT / "oss", "oss"), (ROOT / "instructions", "oss/samples")):
        for p in top.rglob("*"):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                out.add(f"{prefix}/{p.relative_to(top).as_posix()}")
    return out


def test_the_wheel_holds_every_module_and_data_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_expected_files() - names)
    assert not missing, f"not in the wheel (package-data in pyproject.toml, packages in setup.py): {missing}"
    for name in (
        "oss/samples/led_fixture.yaml",
        "oss/samples/media/screw.png",
        "oss/sim/scenarios/led_basic.yaml",
        "oss/perception/models/hand_landmarker.task",
        "oss/perception/models/LICENSE",
        "oss/perception/models/NOTICE",
    ):
        assert name in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "instructions/"))]


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_installed_wheel_runs_the_demo_from_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    env = {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY")
    }
    install = [
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(python),
        "install",
        "--quiet",
        "--no-deps",
        "--no-index",
    ]
    _run([*install, str(wheel)], tmp_path, env, 600)
    # only now the dependencies (pip above saw a bare environment and touched nothing else)
    purelib = _run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp_path, env, 60
    )
    deps = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (Path(purelib.stdout.strip()) / "_running_env_deps.pth").write_text("\n".join(deps) + "\n")

    cwd = tmp_path / "empty"
    cwd.mkdir()
    where = _run(
        [str(python), "-c", "import oss, oss.samples; print(oss.__file__); print(oss.samples.__file__)"],
        cwd,
        env,
        60,
    )
    for line in where.stdout.split():
        assert Path(line).resolve().is_relative_to(venv.resolve()), where.stdout  # from the wheel

    version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    out = _run([str(venv / "bin" / "oss"), "--version"], cwd, env, 60).stdout
    assert out.startswith(f"oss {version} (Python "), out
    out = _run([str(python), "-m", "oss", "--help"], cwd, env, 60).stdout
    assert out.startswith("usage: oss") and "run" in out and "--version" in out

    run = _run([str(venv / "bin" / "oss"), "run", "--demo", "--max-cycles", "1"], cwd, env, 3000)
    assert "Demo finished." in run.stdout
    summary = json.loads((cwd / "out" / "demo_summary.json").read_text())
    assert summary["cycles_completed"] == 1 and summary["stopped_by"] == "max cycles", summary
    assert summary["steps_correct"] == summary["steps_expected"] > 0, summary
    assert (cwd / "out" / "demo.mp4").stat().st_size > 0
    assert sorted(p.name for p in cwd.iterdir()) == ["out"]  # --demo writes under ./out only

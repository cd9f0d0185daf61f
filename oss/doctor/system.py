"""Checks of the computer itself: Python, the packages OSS imports, the hand model, sound and speech."""

from __future__ import annotations

import importlib
import importlib.metadata as metadata
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import TYPE_CHECKING

from oss.doctor.result import CheckResult, fail, ok, skipped, warn
from oss.records import OssError

if TYPE_CHECKING:
    from oss.config import StationConfig

REINSTALL = "reinstall the dependencies: make install (or .venv/bin/pip install -e .)"
PYTHONS = ((3, 11), (3, 12), (3, 13))  # pyproject.toml: requires-python >=3.11,<3.14


def _pins() -> dict[str, str]:
    """Distribution name (lower case) → the version OSS pins, from the installed package's metadata."""
    try:
        reqs = metadata.requires("oss") or []
    except metadata.PackageNotFoundError:
        return {}
    out = {}
    for r in reqs:
        m = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==([^;\s]+)\s*", r)
        if m:
            out[m.group(1).lower()] = m.group(2)
    return out


def check_python() -> CheckResult:
    v = sys.version_info
    have = f"{v.major}.{v.minor}.{v.micro}"
    if (v.major, v.minor) not in PYTHONS:
        names = ", ".join(f"{a}.{b}" for a, b in PYTHONS)
        newest = "{}.{}".format(*PYTHONS[-1])
        return fail(
            "python",
            f"Python {have} at {sys.executable}; OSS is made and tested for Python {names}",
            f"install python{newest} and run 'make install' (it makes .venv with it), or "
            f"'make PY=/path/to/python{newest} install'",
            version=have,
        )
    return ok("python", f"Python {have} ({sys.executable})", version=have)


# module, distribution, what it is for; what to check beyond the import
PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("cv2", "opencv-contrib-python", "camera, calibration, markers (with aruco)"),
    ("numpy", "numpy", "images"),
    ("pyglet", "pyglet", "projector window, sound"),
    ("serial", "pyserial", "serial devices"),
    ("yaml", "pyyaml", "instruction and station files"),
    ("psycopg", "psycopg", "the fleet store"),
)
MEDIAPIPE = ("mediapipe", "mediapipe", "hand landmarks")


def _package(
    module: str, dist: str, role: str, extra: Callable[[ModuleType], str] | None = None
) -> CheckResult:
    name = f"package {module}"
    try:
        mod = importlib.import_module(module)
    except Exception as e:  # an import can fail in many ways (missing, broken binary, wrong numpy ABI)
        return fail(
            name,
            f"import {module} failed ({type(e).__name__}: {e}); needed for {role}",
            f"{REINSTALL}; it installs {dist}=={_pins().get(dist, '(pinned version)')}",
        )
    try:
        version = metadata.version(dist)
    except metadata.PackageNotFoundError:
        version = str(getattr(mod, "__version__", "?"))
    problem = extra(mod) if extra else ""
    if problem:
        return fail(name, f"{module} {version}: {problem}", REINSTALL, version=version)
    pin = _pins().get(dist)
    if pin and version != pin:
        return warn(
            name,
            f"{dist} {version} is installed, OSS is tested with {pin} ({role})",
            f"{REINSTALL}; other versions may work but are not tested",
            version=version,
            pinned=pin,
        )
    return ok(name, f"{version} ({role})", version=version)


def _aruco(cv2: ModuleType) -> str:
    aruco = getattr(cv2, "aruco", None)
    if aruco is None or not hasattr(aruco, "ArucoDetector"):
        return (
            "OpenCV without the aruco module (the plain opencv-python package): uninstall opencv-python "
            "and opencv-python-headless, keep only opencv-contrib-python"
        )
    return ""


def check_packages(cfg: StationConfig | None) -> list[CheckResult]:
    """One line per package; mediapipe only where the station tracks hands (None: no station file)."""
    out = [_package(m, d, r, _aruco if m == "cv2" else None) for m, d, r in PACKAGES]
    if cfg is None or cfg.hand_tracking:
        out.append(_package(*MEDIAPIPE))
    else:
        out.append(
            skipped(
                "package mediapipe",
                "hand tracking is off in this station file (only needed with hands: {tracking: true})",
            )
        )
    return out


def check_hand_model(cfg: StationConfig) -> CheckResult:
    """Load the hand landmarker as the station would (a .task file, or the model shipped with OSS)."""
    name = "hand model"
    if not cfg.hand_tracking:
        return skipped(name, "hand tracking is off in this station file")
    from oss.perception.landmarks import LandmarkerOptions, create_landmarker

    source = cfg.hand_model or "the default hand model (no hands: model in the station file)"
    try:
        landmarker = create_landmarker(LandmarkerOptions(task_file=cfg.hand_model), video=False)
    except ImportError as e:
        return fail(name, f"mediapipe cannot be imported ({e})", REINSTALL)
    except OssError as e:
        return fail(
            name,
            str(e),
            "name an existing hand_landmarker.task under hands: {model: FILE}, or leave 'model' out to use "
            f"the default one (if that is missing: {REINSTALL})",
        )
    landmarker.close()
    return ok(name, f"MediaPipe loaded {source}", model=cfg.hand_model or "default")


@contextmanager
def _c_stderr_to(path: str) -> Iterator[None]:
    """Send what C libraries write to stderr (ALSA, OpenAL) to ``path`` while the driver starts."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(path, "wb") as f:
            os.dup2(f.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def check_sound(cfg: StationConfig) -> CheckResult:
    """pyglet's audio driver, as the station starts it (pulse, openal, else silent)."""
    from oss.operator.sound import SoundPlayer

    name = "sound"
    when = "" if cfg.display == "window" else " (with display: none the station plays no sounds anyway)"
    with tempfile.TemporaryDirectory(prefix="oss-doctor-") as tmp:
        said = os.path.join(tmp, "stderr.txt")
        try:
            with _c_stderr_to(said):
                player = SoundPlayer()
        except OssError as e:
            return warn(
                name,
                f"{e}{when}",
                "install the audio libraries (Debian: apt-get install libpulse0 libasound2) and check the "
                "speakers",
            )
        with open(said, "rb") as f:
            lines = [ln for ln in f.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    player.close()
    if player.driver in ("silent", "none"):
        why = f"; the audio library said: {lines[-1].strip()}" if lines else ""
        return warn(
            name,
            f"no sound device: pyglet found no working audio driver (tried pulse, openal), the station's "
            f"sounds will be silent{why}{when}",
            "connect speakers and check that the desktop's sound works (pactl info; aplay -l lists sound "
            "cards); run the station as the user logged in on the desktop",
            driver=player.driver,
        )
    return ok(name, f"pyglet audio driver: {player.driver}{when}", driver=player.driver)


def check_speech(cfg: StationConfig) -> CheckResult:
    """espeak-ng, and a voice for the station's language (what the Speaker runs for spoken step text)."""
    from oss.operator.sound import Speaker

    name = "speech"
    speaker = Speaker(None)
    if speaker.executable is None:
        return warn(
            name,
            "espeak-ng is not installed: step text cannot be read aloud to operators whose profile asks "
            "for speech",
            "Debian/Ubuntu: sudo apt-get install espeak-ng",
        )
    lang = cfg.language or "en"
    said = (
        f"the station language '{lang}'"
        if cfg.language
        else "English (no station language set: each instruction's own language is used)"
    )
    try:
        pcm, rate = speaker.synthesize("OSS", lang)
    except OssError as e:
        return warn(
            name,
            f"espeak-ng ({speaker.executable}) cannot speak {said}: {e}",
            "write a language espeak-ng has a voice for ('espeak-ng --voices' lists them) under 'language:' "
            "in the station file",
            language=lang,
        )
    return ok(
        name,
        f"espeak-ng speaks {said} ({speaker.executable})",
        language=lang,
        samples=len(pcm),
        rate=rate,
    )

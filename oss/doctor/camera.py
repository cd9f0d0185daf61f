"""The camera checks: it opens, delivers the configured size and frame rate, its exposure is fixed.

A live camera, a video file or an image folder is opened through the project's own frame sources
(``oss.camera.open_source``), exactly as the station opens it. A ``sim:`` camera is the virtual bench:
it is built from its scenario and a few frames are rendered, with the bench markers glued on (as
``oss calibrate station --sim`` sees it), so the drift check has something to measure.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from oss.calibration.bench_target import BenchTarget, default_target
from oss.camera.base import FrameSource
from oss.config import StationConfig
from oss.doctor.result import CheckResult, fail, ok, skipped, warn
from oss.records import Frame, OssError

LIVE_SECONDS = 2.0  # how long a live camera's frame rate is measured
FIRST_FRAME_S = 6.0  # a USB camera may take a few seconds to deliver its first frame
RECORDED_FRAMES = 3
SIM_FRAMES = 3
SLOW_FPS = 0.8  # below this share of the configured rate the camera is called slow
DARK, BRIGHT = 8.0, 247.0  # mean grey level of an image that is black / washed out
SIZE_FIX = (
    "set the camera to the size in the station file (see the sizes it offers: v4l2-ctl "
    "--list-formats-ext -d DEVICE), or write the size it delivers under camera: {width, height} and "
    "recalibrate with 'oss calibrate station'"
)
MARKERS_FILE = "bench_markers.yaml"


@dataclass(frozen=True, eq=False)
class CameraProbe:
    """What the camera checks found, for the calibration checks: the last frame (None: no frame), the
    size it delivered, and the bench marker layout a drift check looks for."""

    results: tuple[CheckResult, ...]
    frame: np.ndarray | None
    size: tuple[int, int] | None
    sim: bool
    markers: BenchTarget | None = None
    markers_from: str = ""


def marker_layout(cfg: StationConfig, bench_mm: tuple[float, float]) -> tuple[BenchTarget, str]:
    """The bench marker layout: ``bench_markers.yaml`` beside the calibration file, else the standard one
    for a bench of this size (``default_target``, as ``oss calibrate station`` assumes)."""
    if cfg.calibration:
        path = Path(cfg.calibration).parent / MARKERS_FILE
        if path.is_file():
            try:
                return BenchTarget.load(path), str(path)
            except OssError as e:
                bad = f" ({path} is unreadable: {e})"
                return default_target(bench_mm), f"the standard layout{bad}"
    return default_target(bench_mm), f"the standard layout for a {bench_mm[0]:g}x{bench_mm[1]:g} mm bench"


def _brightness(check: str, image: np.ndarray) -> CheckResult | None:
    mean = float(image.mean())
    if mean < DARK:
        return warn(
            check,
            f"the image is almost black (mean grey {mean:.0f} of 255)",
            "take the lens cap off, open the aperture, or set a longer exposure (camera: {exposure: N})",
            mean_grey=round(mean, 1),
        )
    if mean > BRIGHT:
        return warn(
            check,
            f"the image is washed out (mean grey {mean:.0f} of 255)",
            "set a shorter exposure (camera: {exposure: N}) or close the aperture",
            mean_grey=round(mean, 1),
        )
    return None


def probe_camera(cfg: StationConfig) -> CameraProbe:
    if cfg.camera.startswith("sim:"):
        return _probe_sim(cfg)
    return _probe_source(cfg)


def _probe_sim(cfg: StationConfig) -> CameraProbe:
    from oss.calibration.virtual import with_bench_markers
    from oss.sim.bench import VirtualBench
    from oss.sim.scenario import load_scenario

    name = cfg.camera.removeprefix("sim:")
    try:
        scenario = load_scenario(name)
        instruction = scenario.load_instruction()
    except OssError as e:
        return CameraProbe(
            (
                fail(
                    "camera",
                    f"virtual bench {cfg.camera}: {e}",
                    "name a shipped scenario (sim:led_basic, see docs/scenario-format.md) or a scenario file",
                ),
            ),
            None,
            None,
            True,
        )
    bench_mm = (instruction.bench.width_mm, instruction.bench.depth_mm)
    target, target_from = marker_layout(cfg, bench_mm)
    t0 = time.monotonic()
    bench = VirtualBench(scenario, with_bench_markers(instruction, target))
    frames = [bench.next_frame(None) for _ in range(SIM_FRAMES)]
    ms = (time.monotonic() - t0) * 1000.0 / SIM_FRAMES
    image = frames[-1].image
    h, w = image.shape[:2]
    size = (int(w), int(h))
    results = [
        ok(
            "camera",
            f"virtual bench {cfg.camera} (scenario {scenario.name}): {SIM_FRAMES} frames rendered "
            f"({ms:.0f} ms each, the first builds the scene)",
            source=cfg.camera,
            frames=SIM_FRAMES,
        )
    ]
    if size != bench.camera_size:
        results.append(
            fail(
                "camera size",
                f"the virtual bench rendered {w}x{h}, its scenario says "
                f"{bench.camera_size[0]}x{bench.camera_size[1]}",
                "report this as a bug of the simulator",
            )
        )
    elif size != tuple(cfg.camera_size):
        results.append(
            warn(
                "camera size",
                f"the virtual bench renders {w}x{h} (its scenario's size); the station file says "
                f"{cfg.camera_size[0]}x{cfg.camera_size[1]}. 'oss run' uses the scenario's size",
                f"write camera: {{width: {w}, height: {h}}} in the station file (or leave them out)",
                width=w,
                height=h,
            )
        )
    else:
        results.append(ok("camera size", f"{w}x{h}", width=w, height=h))
    results.append(
        ok(
            "camera rate",
            f"the virtual bench runs in lock-step with the station at a nominal {bench.fps:g} fps",
            fps=bench.fps,
        )
    )
    dark = _brightness("camera exposure", image)
    results.append(
        dark or ok("camera exposure", "fixed (the virtual bench simulates a camera with a fixed exposure)")
    )
    return CameraProbe(tuple(results), image, size, True, target, target_from)


@contextmanager
def _opencv_quiet() -> Iterator[None]:
    """OpenCV's own log lines (a camera index out of range, ...): the doctor says it in its table."""
    import cv2

    level = cv2.getLogLevel()
    cv2.setLogLevel(0)  # LOG_LEVEL_SILENT
    try:
        yield
    finally:
        cv2.setLogLevel(level)


def _probe_source(cfg: StationConfig) -> CameraProbe:
    with _opencv_quiet():
        return _probe_opened(cfg)


def _probe_opened(cfg: StationConfig) -> CameraProbe:
    from oss.camera import CameraError, open_source
    from oss.camera.threaded import ThreadedSource

    try:
        source = open_source(
            cfg.camera,
            size=cfg.camera_size,
            fps=cfg.camera_fps,
            exposure=cfg.exposure,
            white_balance=cfg.white_balance,
            retry_s=0.5,
        )
    except CameraError as e:
        return _no_camera(
            str(e), "write a camera index (0), a device (/dev/video0) or a URL under camera: source"
        )
    live = not isinstance(source, ThreadedSource) or source.reconnects
    try:
        source.open()
    except CameraError as e:
        return _no_camera(str(e), "check the path under camera: source")
    try:
        frames, statuses, lost = _read(source, live)
        nominal_fps = float(source.fps)
    except CameraError as e:
        return _no_camera(str(e), "check the cable and the camera: source in the station file")
    finally:
        source.close()
    if not frames:
        why = lost or f"{source.name} delivered no frame within {FIRST_FRAME_S:.0f} s"
        return _no_camera(
            why,
            "check the cable (plug it straight into the computer, not a hub), that no other program uses "
            "the camera, and that the station user is in the 'video' group",
        )
    image = frames[-1].image
    h, w = image.shape[:2]
    size = (int(w), int(h))
    kind = "live camera" if live else "recording"
    results = [
        ok(
            "camera",
            f"{source.name} ({kind}): {len(frames)} frames read",
            source=source.name,
            frames=len(frames),
        )
    ]
    if size != tuple(cfg.camera_size):
        results.append(
            fail(
                "camera size",
                f"{source.name} delivers {w}x{h}, the station file says "
                f"{cfg.camera_size[0]}x{cfg.camera_size[1]}",
                SIZE_FIX,
                width=w,
                height=h,
            )
        )
    else:
        results.append(ok("camera size", f"{w}x{h}", width=w, height=h))
    results.append(_rate(cfg, frames, live, nominal_fps))
    results.append(_exposure(cfg, statuses, live, image))
    return CameraProbe(tuple(results), image, size, False)


def _read(source: FrameSource, live: bool) -> tuple[list[Frame], list[str], str]:
    """Frames (for LIVE_SECONDS from the first one, or RECORDED_FRAMES of a recording), the source's
    status messages, and the first loss it reported before any frame came ("" if none)."""
    statuses: list[str] = []
    frames: list[Frame] = []
    deadline = time.monotonic() + FIRST_FRAME_S
    while not frames and time.monotonic() < deadline:
        f = source.read_latest(timeout=0.2)
        for st in source.status_events():
            statuses.append(st.message)
            if not st.ok:
                return frames, statuses, st.message  # not there now: the station would show CAMERA
        if f is not None:
            frames.append(f)
        elif source.exhausted:
            break
    end = time.monotonic() + LIVE_SECONDS
    while frames:
        if (live and time.monotonic() >= end) or (not live and len(frames) >= RECORDED_FRAMES):
            break
        f = source.read_latest(timeout=0.5)
        if f is not None:
            frames.append(f)
        elif source.exhausted or not live:
            break
    statuses += [st.message for st in source.status_events()]
    return frames, statuses, ""


def _no_camera(message: str, fix: str) -> CameraProbe:
    why = "the camera did not deliver a frame"
    return CameraProbe(
        (
            fail("camera", message, fix),
            skipped("camera size", why),
            skipped("camera rate", why),
            skipped("camera exposure", why),
        ),
        None,
        None,
        False,
    )


def _rate(cfg: StationConfig, frames: list[Frame], live: bool, nominal: float) -> CheckResult:
    want = cfg.camera_fps
    if not live:
        if nominal and abs(nominal - want) > 0.5:
            return warn(
                "camera rate",
                f"the recording has {nominal:g} fps, the station file says {want:g}",
                f"write camera: {{fps: {nominal:g}}} in the station file, or use a recording at {want:g} fps",
                fps=nominal,
            )
        return ok("camera rate", f"{nominal:g} fps (the recording's rate)", fps=nominal)
    if len(frames) < 3:
        return warn(
            "camera rate",
            f"only {len(frames)} frames in {LIVE_SECONDS:g} s: too few to measure the rate",
            "check the cable and light; a long exposure time lowers the frame rate",
        )
    span = frames[-1].t - frames[0].t  # frames the source dropped between two reads count too
    got = (frames[-1].index - frames[0].index) / span if span > 0 else 0.0
    if got < SLOW_FPS * want:
        return warn(
            "camera rate",
            f"{got:.1f} fps measured, the station file asks {want:g} (the driver reports {nominal:g})",
            "use a USB 3 port of its own, a smaller size or MJPG format (v4l2-ctl --list-formats-ext), "
            "and more room light: a long exposure time caps the frame rate",
            fps=round(got, 2),
        )
    return ok("camera rate", f"{got:.1f} fps measured (asked {want:g})", fps=round(got, 2))


def _exposure(cfg: StationConfig, statuses: list[str], live: bool, image: np.ndarray) -> CheckResult:
    name = "camera exposure"
    dark = _brightness(name, image)
    if not live:
        return dark or ok(name, "a recording: its exposure is whatever it was recorded with")
    refused = [s for s in statuses if "refused" in s]
    if refused:
        return warn(
            name,
            "; ".join(refused),
            "fix exposure and white balance with the camera's own tool (v4l2-ctl -d DEVICE -c "
            "auto_exposure=1 -c exposure_time_absolute=N), or use a camera that lets OSS set them",
        )
    if cfg.exposure is None:
        return warn(
            name,
            "no fixed exposure in the station file: the camera's automatic exposure fights the projector",
            "set camera: {exposure: N} (V4L2: 100 µs steps, see v4l2-ctl -L) and white_balance: K",
        )
    if dark is not None:
        return dark
    wb = f", white balance {cfg.white_balance:g} K" if cfg.white_balance is not None else ""
    return ok(name, f"fixed at {cfg.exposure:g}{wb}; the camera took the settings", exposure=cfg.exposure)

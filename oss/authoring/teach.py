"""``oss teach``: the author does each step once; OSS learns what the zones look like and how long it takes.

Protocol (the same at a station and on the virtual bench): the projection shows one step at a time
with "TEACH" on the status line; the author does the step, then presses NEXT (pedal, button box, space
bar). On each press OSS records, in perception's normalised bench view:

- the *done* look of every zone the step's ``present`` conditions name (the zone's last look with no
  hand over it), and at the start of the unit the *empty* look of every watched zone;
- the author's time for the step: from the step being shown to the last moment a hand was seen before
  the press (waiting before the press does not count), proposed as ``expected_s``;
- where the bench changed during the step (the clear view at the press against the clear view at the
  step's start): the changed region next to each ``present``/``absent`` zone, proposed as the zone's
  rectangle in the zone's own frame.

The looks are saved beside the instruction file (``oss.perception.taught``); perception uses them from
then on. The proposals are written to the same teach file and returned, for the author to copy.
On the virtual bench the scripted operator plays the author: it does the step shown and, once done,
presses the pedal after ``operator.stuck_timeout_s`` (set short by :func:`teach_scenario`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.display.base import Display, NullDisplay
from oss.instructions.model import Instruction, RunStep
from oss.perception.foreground import channel_max
from oss.perception.pipeline import Perception
from oss.perception.presence import condition_zones
from oss.perception.taught import TaughtReferences, layout_key, teach_dir
from oss.records import Button, Frame, OssError, Phase, StationState
from oss.render.renderer import Renderer
from oss.station.loop import Camera, InputSource

TEACH_MESSAGE = "TEACH: do this step once, then press NEXT"
CHANGE_OPEN_MM = 6.0
PROPOSAL_MARGIN_MM = 4.0


@dataclass(frozen=True)
class ZoneProposal:
    zone: str
    frame: str
    rect: tuple[float, float, float, float]  # x, y, w, h in mm in ``frame``, as 'rect:' is written
    file_rect: tuple[float, float, float, float]  # the zone's bounding rectangle in the file
    overlap: float  # intersection over union of the two

    def yaml(self) -> str:
        x, y, w, h = (round(v) for v in self.rect)
        return f"{self.zone}: {{frame: {self.frame}, rect: [{x}, {y}, {w}, {h}]}}  # overlap with the file: {self.overlap:.2f}"


@dataclass(frozen=True)
class TaughtStep:
    uid: str
    seconds: float  # the author's time: shown → last hand seen before the press
    expected_s: float  # proposal: seconds rounded up to 0.5 s
    file_expected_s: float | None


@dataclass(frozen=True)
class TeachResult:
    references: TaughtReferences
    steps: tuple[TaughtStep, ...]
    proposals: tuple[ZoneProposal, ...]
    folder: Path | None = None
    frames: int = 0


@dataclass
class _StepRecord:
    rs: RunStep
    t_shown: float
    start_view: np.ndarray | None
    last_hand_t: float | None = None


@dataclass
class _Clear:
    """The bench's last look without a hand, per pixel (normalised view, NaN where never seen clear)."""

    view: np.ndarray | None = None
    kernel: np.ndarray = field(default_factory=lambda: np.ones((1, 1), np.uint8))

    def update(self, ratio: np.ndarray, arms: np.ndarray) -> None:
        if self.view is None:
            self.view = np.full(ratio.shape, np.nan, np.float32)
        covered = cv2.dilate(arms, self.kernel) > 0
        self.view[~covered] = ratio[~covered]


class TeachSession:
    """Runs the teach protocol on any camera (a station's or the virtual bench's); see the module doc."""

    def __init__(
        self,
        instruction: Instruction,
        variant: str | None,
        calibration: Calibration,
        camera: Camera,
        *,
        inputs: Sequence[InputSource] = (),
        display: Display | None = None,
        on_step: Callable[[str | None, int], None] | None = None,
        mm_per_px: float = 2.0,
        language: str | None = None,
    ) -> None:
        self.ins = instruction
        self.variant = variant if variant is not None else instruction.default_variant()
        self.camera = camera
        self.inputs = tuple(inputs)
        self.display = display or NullDisplay()
        self.on_step = on_step
        self.mm_per_px = mm_per_px
        self.language = language or instruction.default_language
        self.perception = Perception(
            instruction, calibration, self.variant, mm_per_px=mm_per_px, load_taught=False
        )
        self.renderer = Renderer(instruction, calibration, self.variant, language=self.language)
        self.runs = instruction.run_steps(self.variant)
        self.shown: np.ndarray | None = None
        r = max(1, round(self.perception.cfg.presence_hand_margin_mm / mm_per_px))
        self._clear = _Clear(kernel=np.ones((2 * r + 1, 2 * r + 1), np.uint8))
        self.frames = 0

    # --- the loop ---------------------------------------------------------------------------------
    def _frame(self, timeout: float) -> Frame | None:
        frame = self.camera.read_latest(timeout=timeout)
        if frame is None:
            return None
        obs = self.perception.process(frame, self.shown)
        seg, view = self.perception.last_segmentation, self.perception.last_view
        assert seg is not None and view is not None
        self._clear.update(view.ratio, seg.mask)
        self.frames += 1
        self._hands = bool(obs.hands)
        return frame

    def _pressed(self) -> bool:
        presses = [k for k in self.display.poll_keys() if getattr(k, "button", None) == Button.NEXT]
        for src in self.inputs:
            presses += [e for e in src.poll_inputs() if e.button == Button.NEXT]
        return bool(presses)

    def _show(self, k: int, t: float) -> None:
        rs = self.runs[k]
        state = StationState(
            Phase.RUNNING, k, rs.uid, self.variant, 0, self.language, message=TEACH_MESSAGE, t=t
        )
        self.shown = self.renderer.render(state)
        self.display.show(self.shown)

    def run(self, max_frames: int | None = None, timeout: float = 0.05) -> TeachResult:
        """Teach every run step of the variant once; raises OssError if the camera ends before."""
        try:
            return self._teach(max_frames, timeout)
        finally:
            self.perception.close()

    def _teach(self, max_frames: int | None, timeout: float) -> TeachResult:
        empty: dict[str, np.ndarray] = {}
        done: dict[tuple[str, str], np.ndarray] = {}
        steps: list[TaughtStep] = []
        proposals: dict[str, ZoneProposal] = {}
        self._hands = False
        first = None
        while first is None:  # a first look of the bench before anything is shown
            first = self._frame(timeout)
            if first is None and self.camera.exhausted:
                raise OssError("the camera delivered no frame; check it and try again")
        t = first.t
        self.perception.begin_unit()
        self._frame(timeout)
        for z in self.perception.presence.watched:
            look = self.perception.presence.look(z)
            if look is not None:
                empty[z] = look.copy()
        for k, rs in enumerate(self.runs):
            self.perception.begin_run_step(rs)
            self._show(k, t)
            if self.on_step is not None:
                self.on_step(rs.uid, 0)
            rec = _StepRecord(rs, t, None if self._clear.view is None else self._clear.view.copy())
            while True:
                if max_frames is not None and self.frames >= max_frames:
                    raise OssError(f"teach-in stopped after {max_frames} frames at step '{rs.uid}'")
                frame = self._frame(timeout)
                if frame is None:
                    if self.camera.exhausted:
                        raise OssError(f"the camera ended during step '{rs.uid}'; teach again")
                    continue
                t = frame.t
                if self._hands:
                    rec.last_hand_t = t
                self._show(k, t)
                if self._pressed():
                    break
            present, absent = condition_zones(rs.done)
            for z in present:
                look = self.perception.presence.look(z)
                if look is not None:
                    done[(rs.uid, z)] = look.copy()
            work = (rec.last_hand_t if rec.last_hand_t is not None else t) - rec.t_shown
            steps.append(
                TaughtStep(rs.uid, round(work, 2), max(0.5, math.ceil(work * 2) / 2), rs.step.expected_s)
            )
            for z in (*present, *absent):
                p = self._propose(z, rec.start_view)
                if p is not None and z not in proposals:
                    proposals[z] = p
        if self.on_step is not None:
            self.on_step(None, 1)
        refs = TaughtReferences(
            layout_key(self.ins, self.variant),
            self.variant,
            self.mm_per_px,
            empty,
            done,
            self.ins.content_hash,
            {
                "instruction": Path(self.ins.source).name,
                "version": self.ins.version,
                "taught_utc": datetime.now(UTC).isoformat(timespec="seconds"),
                "steps": [
                    {
                        "uid": s.uid,
                        "seconds": s.seconds,
                        "expected_s": s.expected_s,
                        "file_expected_s": s.file_expected_s,
                    }
                    for s in steps
                ],
                "proposed_zones": {
                    p.zone: {
                        "frame": p.frame,
                        "rect": [round(v) for v in p.rect],
                        "overlap": round(p.overlap, 2),
                    }
                    for p in proposals.values()
                },
            },
        )
        return TeachResult(refs, tuple(steps), tuple(proposals.values()), None, self.frames)

    # --- proposals --------------------------------------------------------------------------------
    def _propose(self, zone: str, start: np.ndarray | None) -> ZoneProposal | None:
        end = self._clear.view
        if start is None or end is None:
            return None
        s = self.mm_per_px
        valid = ~(np.isnan(start).any(axis=2) | np.isnan(end).any(axis=2))
        delta = channel_max(np.abs(np.nan_to_num(end) - np.nan_to_num(start)))
        changed = ((delta > self.perception.cfg.presence_pixel_delta) & valid).astype(np.uint8)
        k = max(1, round(CHANGE_OPEN_MM / s)) | 1
        changed = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((k, k), np.uint8))
        n, labels, stats, _ = cv2.connectedComponentsWithStats(changed, connectivity=8)
        if n <= 1:
            return None
        poly = self.perception.zones.polygon_mm(zone)
        zmask = np.zeros(changed.shape, np.uint8)
        cv2.fillPoly(zmask, [np.round(np.asarray(poly) / s - 0.5).astype(np.int32)], (1,))
        overlaps = [int(((labels == i) & (zmask > 0)).sum()) for i in range(1, n)]
        best = int(np.argmax(overlaps)) + 1
        if overlaps[best - 1] == 0:
            return None
        vs, us = np.nonzero(labels == best)
        pts_mm = np.column_stack([(us + 0.5) * s, (vs + 0.5) * s])
        z = self.ins.zones[zone]
        local = self._to_frame(z.frame, pts_mm)
        m = PROPOSAL_MARGIN_MM
        x0, y0 = local.min(axis=0) - m
        x1, y1 = local.max(axis=0) + m
        rect = (float(x0), float(y0), float(x1 - x0), float(y1 - y0))
        fx0, fy0, fx1, fy1 = z.bounds()
        file_rect = (fx0, fy0, fx1 - fx0, fy1 - fy0)
        return ZoneProposal(zone, z.frame, rect, file_rect, _iou(rect, file_rect))

    def _to_frame(self, frame: str, pts_mm: np.ndarray) -> np.ndarray:
        if frame == "bench":
            return pts_mm
        fx = self.ins.fixtures[frame]
        c, s = math.cos(math.radians(fx.angle_deg)), math.sin(math.radians(fx.angle_deg))
        d = pts_mm - np.array([fx.x_mm, fx.y_mm])
        return np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]])


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


# ---------------------------------------------------------------------------------------------------
# On the virtual bench


def teach_scenario(
    instruction: Instruction, variant: str | None = None, *, seed: int = 0, press_after_s: float = 1.0
):  # type: ignore[no-untyped-def]
    """The default scenario with an author who presses the pedal ``press_after_s`` after each step."""
    from oss.authoring.scenario import default_scenario
    from oss.sim.scenario import OperatorSpec

    return default_scenario(
        instruction, variant, seed=seed, operator=replace(OperatorSpec(), stuck_timeout_s=press_after_s)
    )


def teach_on_bench(
    instruction: Instruction,
    scenario: object | None = None,
    *,
    variant: str | None = None,
    save: bool = True,
    folder: str | Path | None = None,
    max_frames: int | None = None,
) -> TeachResult:
    """Teach ``instruction`` on the virtual bench of ``scenario`` (default: :func:`teach_scenario`)."""
    from oss.sim.bench import VirtualBench
    from oss.sim.scenario import Scenario
    from oss.station.sim_link import SimCamera, calibrate_sim

    sc = scenario if isinstance(scenario, Scenario) else teach_scenario(instruction, variant)
    variant = variant or sc.variant or instruction.default_variant()
    # two units: after the last step of the first the scripted author waits for the next unit, and
    # presses the pedal like after every other step (with one unit it would just stop)
    sc = replace(sc, variant=variant, cycles=2)
    bench = VirtualBench(sc, instruction)
    holder: list[TeachSession] = []
    camera = SimCamera(bench, lambda: holder[0].shown if holder else None)
    session = TeachSession(
        instruction, variant, calibrate_sim(bench), camera, inputs=(camera,), on_step=camera.show
    )
    holder.append(session)
    result = session.run(max_frames=max_frames, timeout=0.0)
    if save:
        out = Path(folder) if folder is not None else teach_dir(instruction.source)
        result.references.save(out)
        result = replace(result, folder=out)
    return result

"""Perception: one camera frame (and the projector image shown while it was taken) → Observation.

Order of work in ``process``: fixture markers (so fixture zones are where the jig is) → rectify the
frame to a bench image → foreground against the bench model under the current projection → arms and
hand tips → zones of the tips → picks → part presence of the watched zones → background update.
The projector image's warp to the bench and the marker search need only their own input, and nothing
needs the markers before the zones of the tips: both run on a worker thread, the warp beside the
camera frame's rectification and the markers beside the foreground and arms (OpenCV lets go of
Python's lock while it works). So do the top half of the foreground test (it goes pixel by pixel)
beside the bottom half, and the part of the background update that needs only the segmentation
(``ForegroundModel.look``) beside the arms. A frame takes that much less time on two cores; the results
are the same as one after the other.

The station calls, in this order::

    perception.begin_unit()                  # a new unit starts (takes the empty-jig looks)
    perception.begin_run_step(run_step)      # each step, right when it becomes current
    obs = perception.process(frame, projector_image)   # every frame

``begin_unit`` comes before the unit's first ``begin_run_step``. ``projector_image`` is the image that
was on the projector while the frame was exposed (pass the same object again while it does not change:
its warp is then reused).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from typing import TypeVar

import cv2
import numpy as np

from oss.calibration.model import Calibration
from oss.instructions.model import BENCH_FRAME, Instruction, RunStep
from oss.perception.alignment import Realignment, ViewAligner, shifted_calibration, shifted_projector
from oss.perception.config import PerceptionConfig
from oss.perception.foreground import BenchView, ForegroundModel, ForegroundResult, channel_max
from oss.perception.hands import (
    ArmSegmentation,
    ForegroundHandDetector,
    HandDetector,
    RaisedHands,
    fuse_hands,
)
from oss.perception.markers import MarkerTracker
from oss.perception.picks import PickDetector
from oss.perception.presence import PresenceDetector, condition_zones
from oss.perception.rectify import BenchRectifier
from oss.perception.taught import TaughtReferences, load_references
from oss.perception.zones import ZoneMap
from oss.records import FixturePose, Frame, Observation, OssError

In = TypeVar("In")
Out = TypeVar("Out")

# telling whether the projection moved along with a corrected camera view (see ``Perception._align``):
PROJECTION_DIFF = 0.1  # bench px whose projected level differs this much between the two ...
PROJECTION_MIN_PX = 100  # ... at least this many of them, or nothing projected tells


class Perception:
    """The perception stage of one station.

    ``plain=True`` is the reference 'plain approach' (no caching: maps recomputed and the whole frame
    searched for markers on every frame); it gives the same kind of results, slower.
    ``hand_detectors`` are further detectors (the MediaPipe tracker) fused into the foreground hands.
    ``taught``: zone looks taught with ``oss teach``; by default (``load_taught``) they are read from
    beside the instruction file when they fit its layout (``oss.perception.taught``).
    """

    def __init__(
        self,
        instruction: Instruction,
        calibration: Calibration,
        variant: str | None = None,
        *,
        mm_per_px: float = 2.0,
        config: PerceptionConfig | None = None,
        plain: bool = False,
        hand_detectors: Sequence[HandDetector] = (),
        taught: TaughtReferences | None = None,
        load_taught: bool = True,
    ) -> None:
        self.cfg = cfg = config or PerceptionConfig()
        self.instruction = instruction
        self.calibration = calibration
        self.variant = variant if variant is not None else instruction.default_variant()
        self.mm_per_px = mm_per_px
        self.plain = plain
        self.rectifier = BenchRectifier(calibration, mm_per_px, plain=plain)
        self.foreground = ForegroundModel(self.rectifier.black, self.rectifier.contrast, mm_per_px, cfg)
        self.arms = ForegroundHandDetector(cfg)
        self.hand_detectors = tuple(hand_detectors)
        self.raised = RaisedHands(cfg)  # hands well above the bench (they touch nothing)
        self.zones = ZoneMap(instruction, mm_per_px, cfg, plain=plain)
        watched: dict[str, None] = {}
        for rs in instruction.run_steps(self.variant):
            present, absent = condition_zones(rs.done)
            watched.update(dict.fromkeys([*present, *absent]))
        self.presence = PresenceDetector(self.zones, watched, cfg)
        # looks taught with 'oss teach', from beside the instruction file unless given (see taught.py)
        if taught is None and load_taught:
            taught = load_references(instruction, self.variant, mm_per_px)
        self.taught = taught
        self.picks = PickDetector(tuple(instruction.bins), cfg)
        self.markers = MarkerTracker(
            instruction.fixtures,
            calibration,
            full_every=cfg.marker_full_every,
            roi_margin=cfg.marker_roi_margin,
            plain=plain,
        )
        r = max(1, round(cfg.presence_hand_margin_mm / mm_per_px))
        self._cover_kernel = np.ones((2 * r + 1, 2 * r + 1), np.uint8)  # square: separable, fast
        self.last_segmentation: ArmSegmentation | None = None
        self._cover: np.ndarray | None = None  # arms of the last frame, grown by presence_hand_margin_mm
        self._held: dict[str, FixturePose] = {}
        self.last_view: BenchView | None = None
        self.aligner = ViewAligner(self.rectifier.size, mm_per_px, cfg)
        self._movable: np.ndarray | None = None
        self._movable_version = -1
        self.realignments: list[Realignment] = []  # since the last ``take_realignments``
        # the projection's warp, the markers, half of the foreground test and more (``_beside``)
        self._worker = None if plain else ThreadPoolExecutor(1, thread_name_prefix="oss-perception")
        self.foreground.worker = self._worker

    # --- hooks for the station loop -----------------------------------------------------------------
    def begin_unit(self) -> None:
        """A new unit starts: the current (empty) look of every watched zone becomes its unit reference."""
        self.presence.begin_unit()

    def begin_step(self, presence_zones: Sequence[str], absent_zones: Sequence[str] = ()) -> None:
        """A step starts: report presence of these zones, judged against their look now (``presence_zones``,
        for 'part present' conditions) or at the unit start (``absent_zones``, for 'part absent')."""
        self.presence.begin_step(presence_zones, absent_zones)

    def begin_run_step(self, step: RunStep) -> None:
        """``begin_step`` with the zones of ``step``'s done-condition."""
        present, absent = condition_zones(step.done)
        if self.taught is not None:
            for z in present:
                self.presence.teach(z, self.taught.empty.get(z), self.taught.done.get((step.uid, z)))
            for z in absent:
                self.presence.teach(z, self.taught.empty.get(z), None)
        self.presence.begin_step(present, absent)

    def take_realignments(self) -> list[Realignment]:
        """Corrections of the camera's view since the last call (the station logs them)."""
        out, self.realignments = self.realignments, []
        return out

    def follow_camera(self, calibration: Calibration) -> None:
        """Use ``calibration`` from now on for the camera (its view moved); the bench model stays."""
        self.calibration = calibration
        self.rectifier.follow_camera(calibration)
        self.markers.calibration = calibration
        for det in self.hand_detectors:
            follow = getattr(det, "follow_camera", None)
            if follow is not None:
                follow(calibration)

    def _movable_mask(self) -> np.ndarray:
        """Where things may move without the camera moving (the jigs, with their zones and markers), grown
        by ``align_exclude_mm``: left out of the camera-shift measurement."""
        if self._movable is not None and self._movable_version == self.zones.version:
            return self._movable
        h, w = self.rectifier.shape
        m = np.zeros((h, w), np.uint8)
        s = self.mm_per_px
        for z in self.instruction.zones.values():
            if z.frame != BENCH_FRAME:
                poly = np.round(self.zones.polygon_mm(z.id) / s - 0.5).astype(np.int32)
                cv2.fillPoly(m, [poly], (255,))
        for f in self.instruction.fixtures.values():
            x, y, _ = self.zones.poses[f.id]
            r = f.marker_size_mm
            cv2.rectangle(
                m, (int((x - r) / s), int((y - r) / s)), (int((x + r) / s), int((y + r) / s)), (255,), -1
            )
        k = 2 * max(1, round(self.cfg.align_exclude_mm / s)) + 1
        self._movable = np.asarray(cv2.dilate(m, np.ones((k, k), np.uint8)), np.uint8)
        self._movable_version = self.zones.version
        return self._movable

    def _align(
        self,
        img: np.ndarray,
        bench: np.ndarray,
        projector_image: np.ndarray | None,
        proj: np.ndarray,
        fg: ForegroundResult,
        arms: np.ndarray,
        cover: np.ndarray,
        t: float,
    ) -> bool:
        """Check the camera's view; True when it was corrected (this frame's looks are off)."""
        if fg.empty is None:
            return False
        re = self.aligner.check(
            bench, fg.empty * self.foreground.background, arms, t, self._movable_mask(), proj
        )
        if re is None:
            return False
        if re.applied:
            self.follow_camera(shifted_calibration(self.calibration, re.dx_mm, re.dy_mm))
            along = shifted_projector(self.calibration, re.dx_mm, re.dy_mm)
            if projector_image is not None and self._projection_moved(img, projector_image, proj, along, fg, cover):
                self.calibration = along
                self.rectifier.follow_projector(along)
                re = replace(
                    re,
                    projector=True,
                    message=re.message + "; the projection moved with it (the bench was knocked): followed too",
                )
            self.presence.realigned(re.since_t)
        self.realignments.append(re)
        return re.applied

    def _projection_moved(
        self,
        img: np.ndarray,
        projector_image: np.ndarray,
        proj: np.ndarray,
        along: Calibration,
        fg: ForegroundResult,
        cover: np.ndarray,
    ) -> bool:
        """Right after the camera's view was corrected: does the view (taken again with the corrected
        camera) fit our projection clearly better where it was (the camera alone moved) or moved along
        with the view (camera and projector, or the bench under them)? Judged where the two differ and
        no arm is, with this frame's light fit."""
        bench = self.rectifier.rectify(img)
        moved = self.rectifier.projection_under(along, projector_image)
        where = (channel_max(cv2.absdiff(proj, moved)) > PROJECTION_DIFF) & (cover == 0)
        if int(np.count_nonzero(where)) < PROJECTION_MIN_PX:
            return False  # nothing projected with edges to tell by: keep the projector's mapping
        stay = self.foreground.misfit(bench, proj, fg, where)
        moved_off = self.foreground.misfit(bench, moved, fg, where)
        return moved_off < 0.5 * stay

    def _tip_radius(self, speed: float | None) -> float:
        """A resting fingertip is somewhere in a small disc around the tip found; a moving one is taken
        at its point (so a hand does not count as in a zone before it gets there)."""
        rest = speed is not None and speed < self.cfg.rest_speed_mm_s
        return self.cfg.fingertip_radius_mm if rest else 0.0

    def _trusted(self, poses: tuple[FixturePose, ...]) -> tuple[FixturePose, ...]:
        """A marker with a hand or arm right next to it may be partly hidden and its corners off: keep its
        last pose seen in the clear."""
        out = []
        s = self.mm_per_px
        for p in poses:
            held = self._held.get(p.fixture)
            if self._cover is not None and held is not None:
                r = self.instruction.fixtures[p.fixture].marker_size_mm
                h, w = self._cover.shape
                u0, u1 = max(0, int((p.x_mm - r) / s)), min(w, int((p.x_mm + r) / s) + 1)
                v0, v1 = max(0, int((p.y_mm - r) / s)), min(h, int((p.y_mm + r) / s) + 1)
                if u1 > u0 and v1 > v0 and self._cover[v0:v1, u0:u1].any():
                    out.append(held)
                    continue
            self._held[p.fixture] = p
            out.append(p)
        return tuple(out)

    def close(self) -> None:
        """Stop the worker thread (waiting for what it has started); ``process`` then does all its work
        on the caller's thread. The station calls it when it stops."""
        worker, self._worker = self._worker, None
        self.foreground.worker = None
        if worker is not None:
            worker.shutdown(wait=True)

    def _beside(self, fn: Callable[[In], Out], arg: In) -> Future[Out]:
        """``fn(arg)`` on the worker thread, in the order asked (at once, on this thread, when there is no
        worker: ``plain``, or after ``close``)."""
        if self._worker is None:
            done: Future[Out] = Future()
            done.set_result(fn(arg))
            return done
        return self._worker.submit(fn, arg)

    # --- per frame ------------------------------------------------------------------------------------
    def process(
        self, frame: Frame, projector_image: np.ndarray | None, presence_zones: Sequence[str] = ()
    ) -> Observation:
        """What perception sees in ``frame``. ``presence_zones`` overrides the zones reported (default:
        those of the last ``begin_step``)."""
        img = frame.image
        if img.shape[1] != self.calibration.camera_size[0] or img.shape[0] != self.calibration.camera_size[1]:
            cw, ch = self.calibration.camera_size
            raise OssError(
                f"frame {frame.index} from {frame.source or 'the camera'} is {img.shape[1]}x{img.shape[0]}, "
                f"but the calibration is for {cw}x{ch}. "
                "Set the camera to the calibrated resolution or recalibrate."
            )
        t = frame.t
        warp = self._beside(self.rectifier.projection, projector_image)
        search = self._beside(self.markers.update, img)
        bench = self.rectifier.rectify(img)
        proj = warp.result()
        fg = self.foreground.segment(bench, proj, self.rectifier.changed_box)
        view = BenchView(bench, fg.ratio, self.mm_per_px, t, img, fg.changed)
        look = self._beside(self.foreground.look, fg)
        hands = self.arms.detect(view, fg.mask, t)
        fixtures = self._trusted(search.result())
        self.zones.update_poses(fixtures)
        seg = self.arms.last
        assert seg is not None
        for det in self.hand_detectors:
            hands = fuse_hands(hands, det.detect(view, fg.mask, t))
        picks = self.picks.update(hands, self.zones.depth_mm, t, suspended=seg.leaning)
        hands = tuple(
            replace(h, zones=self.zones.zones_at(h.tip_mm, radius_mm=self._tip_radius(v)), speed_mm_s=v)
            for h, v in zip(hands, self.picks.speeds, strict=True)
        )
        hands = self.raised.update(hands)
        cover = cv2.dilate(seg.mask, self._cover_kernel)
        self._cover = cover
        moved = (
            self.aligner.due()
            and not seg.leaning
            and self._align(img, bench, projector_image, proj, fg, seg.mask, cover, t)
        )
        self.presence.update(fg.ratio, cover, t, judge=not (moved or self.aligner.pending))
        self.foreground.update_background(fg, seg.mask, t, look.result())
        self.last_segmentation, self.last_view = seg, view
        return Observation(
            t=t,
            frame_index=frame.index,
            hands=hands,
            picks=picks,
            presence=self.presence.presence(presence_zones),
            fixtures=fixtures,
            hand_mask_mm=seg.outlines_mm,
        )

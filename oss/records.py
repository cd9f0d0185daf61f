"""The typed records that cross stage boundaries (see docs/architecture.md).

FrameSource ─Frame─▶ Perception ─Observation─▶ StepEngine ─StationState─▶ Renderer ─▶ Display
Devices ─InputEvent─▶ StepEngine ─LogEvent─▶ EventLog

Every record is frozen. Positions say their frame in the name: ``_mm`` is bench millimetres,
``_px`` camera pixels (``_ppx`` projector pixels). Times are seconds on the monotonic clock
(``t``) unless named ``utc``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np

Point = tuple[float, float]


class OssError(Exception):
    """An error a person can act on: ``str(err)`` says what happened, where, and what to do."""


@dataclass(frozen=True, eq=False)
class Frame:
    """One camera image (BGR uint8) and when it was taken."""

    image: np.ndarray
    t: float
    index: int
    source: str = ""


@dataclass(frozen=True)
class CameraStatus:
    """Reported by a frame source when it loses or regains its camera."""

    ok: bool
    message: str
    t: float


# ---------------------------------------------------------------------------------------------------
# Perception → engine


@dataclass(frozen=True)
class Hand:
    """One hand (or arm tip) on the bench.

    ``tip_mm`` is the point furthest from the operator's edge (the fingertips), ``zones`` the zones the
    tip is in. ``landmarks_mm`` holds MediaPipe's 21 landmarks where the hand tracker ran (else empty);
    ``source`` says which detector produced it (``foreground`` or ``mediapipe``). ``width_mm`` is the
    hand's apparent width on the bench plane (0: not measured); ``raised`` says the hand looks well above
    the bench (wider than at bench level, through parallax): it is not touching anything.
    """

    tip_mm: Point
    zones: tuple[str, ...] = ()
    handedness: str = ""  # "Left" / "Right" where known
    score: float = 1.0
    area_mm2: float = 0.0
    landmarks_mm: tuple[Point, ...] = ()
    source: str = "foreground"
    speed_mm_s: float | None = None  # how fast the tip moves over the bench (None: not known yet)
    width_mm: float = 0.0
    raised: bool = False


@dataclass(frozen=True)
class PickSeen:
    """A hand entered ``bin`` and left it again (the pick completes when the hand leaves)."""

    bin: str
    t_enter: float
    t_leave: float


@dataclass(frozen=True)
class FixturePose:
    """Where a fixture's marker really is, in bench mm and degrees."""

    fixture: str
    x_mm: float
    y_mm: float
    angle_deg: float


class Presence(Enum):
    EMPTY = "empty"
    PRESENT = "present"
    UNKNOWN = "unknown"  # covered by a hand or not yet seen


@dataclass(frozen=True)
class Observation:
    """What perception saw in one frame."""

    t: float
    frame_index: int
    hands: tuple[Hand, ...] = ()
    picks: tuple[PickSeen, ...] = ()  # picks that completed in this frame
    presence: tuple[tuple[str, Presence], ...] = ()  # per zone with a part-present condition
    fixtures: tuple[FixturePose, ...] = ()
    hand_mask_mm: tuple[tuple[Point, ...], ...] = ()  # outlines of hands and arms, bench mm
    camera_ok: bool = True

    def presence_of(self, zone: str) -> Presence:
        for z, p in self.presence:
            if z == zone:
                return p
        return Presence.UNKNOWN

    def hands_in(self, zone: str) -> int:
        return sum(1 for h in self.hands if zone in h.zones)


# ---------------------------------------------------------------------------------------------------
# Devices → engine


class Button(Enum):
    NEXT = "next"
    BACK = "back"
    HELP = "help"
    PAUSE = "pause"
    SKIP = "skip"  # supervisor only
    CONFIRM = "confirm"


@dataclass(frozen=True)
class InputEvent:
    """A press from a pedal, button box, keyboard or projected touch button."""

    button: Button
    source: str  # "pedal", "buttonbox", "keyboard", "touch", ...
    t: float
    device: str = ""
    supervisor: bool = False


# ---------------------------------------------------------------------------------------------------
# Engine → renderer, log, indicators


class Phase(Enum):
    WAITING = "waiting"  # between units, before the first step starts
    RUNNING = "running"
    ERROR = "error"  # a mistake is shown; clears when corrected or acknowledged
    PAUSED = "paused"
    HELP = "help"  # help requested, a supervisor is called
    DONE = "done"  # the unit is complete (shown briefly)
    FINISHED = "finished"  # max cycles reached, session over


@dataclass(frozen=True)
class StationState:
    """What the operator should see now: the renderer draws exactly this."""

    phase: Phase
    step_index: int  # index into Instruction.run_steps(variant); -1 before the first
    step_uid: str
    variant: str | None
    cycle: int  # units completed in this session
    language: str = "en"
    error_hint: str = ""
    error_bin: str = ""  # the wrongly picked bin, highlighted red
    progress: float = 0.0  # 0..1 of the current step's done-condition
    step_done_flash: bool = False  # the step just completed: flash green
    message: str = ""  # a status line (camera lost, device lost, ...)
    t: float = 0.0


@dataclass(frozen=True)
class LogEvent:
    """One line of the event log. ``kind`` is one of EVENT_KINDS; ``data`` holds kind-specific fields."""

    kind: str
    t: float  # monotonic seconds
    utc: str  # ISO 8601, UTC
    step_uid: str = ""
    cycle: int = 0
    data: tuple[tuple[str, str | int | float | bool | None], ...] = field(default_factory=tuple)

    def get(self, key: str, default: object = None) -> object:
        return dict(self.data).get(key, default)


EVENT_KINDS = (
    "session_start",
    "session_end",
    "cycle_start",
    "cycle_end",
    "step_start",
    "step_end",
    "pick",
    "error",
    "help",
    "pause",
    "resume",
    "back",
    "skip",
    "camera",
    "device",
    "reload",
    "level",  # guidance level in effect at a session start, or changed (oss.operator.adaptive)
    "hesitation",  # more guidance shown after a step stalled, or a supervisor called (oss.engine.guidance)
    "restart",  # a supervisor started the unit over (StepEngine.restart_unit)
    "supervisor",  # an action at the supervisor monitor: PIN, skip, restart, level (oss.monitor)
    "stop_request",  # Escape in the projector window: asked, wrong pin, blocked, cancelled, ignored, stopped
)

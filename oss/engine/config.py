"""Timings of the step engine: debouncing, guards and how long things are shown. All in seconds."""

from __future__ import annotations

from dataclasses import dataclass

from oss.records import OssError


@dataclass(frozen=True)
class EngineConfig:
    """How cautious the engine is. The defaults suit a camera at 15-30 fps.

    Presence (``present``/``absent`` conditions):
        present_s: the zone must look PRESENT (EMPTY for ``absent``) for this long with no hand in it.
        present_min_frames: ... and in at least this many frames, so one or two lucky frames at a low
            frame rate never confirm a part.
        unknown_hold_s: UNKNOWN (covered by an arm, not yet seen, camera lost) neither confirms nor
            resets a run; it only pauses it. When UNKNOWN lasts longer than this the run starts over.
        max_frame_gap_s: an interval between two frames adds at most this to a run (a stalled
            camera adds little; a slow one still confirms, after present_min_frames frames).

    Hands (``hand_in``):
        hand_dropout_s, hand_dropout_frames: a hand missing from its zone for at most this long
            or for at most this many frames (detector dropout) does not break the dwell ...
        hand_entry_frames: ... once the hand was seen in the zone this many frames in a row: before,
            a miss starts the dwell over (a tip grazing the zone's edge on its way in is no entry).
        hand_still_mm_s: a tip moving faster than this is passing, not in the zone (a hand seen from
            above is a little ahead of where it is while it comes down on its way in); where
            perception does not know the speed, every tip counts.

    Buttons:
        press_debounce_s: a second press of the same button within this is contact bounce, ignored.
        press_guard_s: a NEXT/confirm press within this of a step start (or of an error appearing)
            is not taken for that step: the operator cannot have seen it yet.

    Display:
        step_done_flash_s: how long ``StationState.step_done_flash`` stays on after a step completes.
        done_s: how long the DONE phase is shown after a unit before the next one starts.

    Picks:
        carry_early_picks: a pick the current step no longer needs, from a bin the next step starts
            with, is kept for the next step instead of being an error (the operator reaching ahead).
    """

    present_s: float = 0.3
    present_min_frames: int = 3
    unknown_hold_s: float = 1.0
    max_frame_gap_s: float = 0.5
    hand_dropout_s: float = 0.2
    hand_dropout_frames: int = 2
    hand_entry_frames: int = 2
    hand_still_mm_s: float = 250.0
    press_debounce_s: float = 0.3
    press_guard_s: float = 0.5
    step_done_flash_s: float = 0.6
    done_s: float = 1.5
    carry_early_picks: bool = True

    def __post_init__(self) -> None:
        bad = [
            name
            for name in (
                "present_s",
                "unknown_hold_s",
                "max_frame_gap_s",
                "hand_dropout_s",
                "hand_still_mm_s",
                "press_debounce_s",
                "press_guard_s",
                "step_done_flash_s",
                "done_s",
            )
            if not getattr(self, name) >= 0
        ]
        if self.present_min_frames < 1:
            bad.append("present_min_frames")
        if self.hand_entry_frames < 1:
            bad.append("hand_entry_frames")
        if self.hand_dropout_frames < 0:
            bad.append("hand_dropout_frames")
        if bad:
            raise OssError(
                f"EngineConfig: {', '.join(bad)} must be >= 0 (present_min_frames >= 1); "
                "fix the station settings"
            )

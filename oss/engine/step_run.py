"""One visit of one run step: its condition tracker, clock origin, errors and wrong picks."""

from __future__ import annotations

from collections.abc import Callable

from oss.engine.conditions import ConditionTracker
from oss.engine.config import EngineConfig
from oss.engine.events import WRONG_PICK_HINT
from oss.instructions.model import ErrorRule, RunStep, Text
from oss.records import PickSeen

PUT_BACK, COUNTED, EARLY, EXTRA, WRONG = "put_back", "counted", "early", "extra", "wrong"


class StepRun:
    """The mutable state of the step being worked on (internal to the engine).

    ``t0`` is the monotonic start, ``a0`` the engine's pause-free clock at the start; ``wrong`` holds
    the bins picked by mistake and not yet put back, the latest last.
    """

    def __init__(self, rs: RunStep, config: EngineConfig, t0: float, a0: float) -> None:
        self.rs, self.t0, self.a0 = rs, t0, a0
        self.tracker = ConditionTracker(rs.done, config)
        self.errors = 0
        self.help = 0
        self.wrong: list[str] = []
        self.error_t = 0.0
        self._rule: ErrorRule | None = next((r for r in rs.step.errors if r.kind == "wrong_pick"), None)

    @property
    def uid(self) -> str:
        return self.rs.uid

    @property
    def index(self) -> int:
        return self.rs.index

    def allowed_bins(self) -> tuple[str, ...]:
        """The bins the condition picks from and the rule's ``allowed_bins``: picks from these are right."""
        extra = self._rule.allowed_bins if self._rule else ()
        return tuple(dict.fromkeys(self.rs.picked_bins() + extra))

    def hint(self, language: str, fallback: str) -> str:
        text: Text = self._rule.hint if self._rule and self._rule.hint else WRONG_PICK_HINT
        return text.get(language, fallback=fallback)

    def classify(self, pick: PickSeen, s: float, early_ok: Callable[[PickSeen], bool]) -> str:
        """Judge one pick at step time ``s`` and let the tracker count it; see the engine docstring.

        ``early_ok`` says whether the next step would take this pick; asked only when this step
        needs no more picks at all.
        """
        if pick.bin in self.wrong:
            self.wrong.remove(pick.bin)
            return PUT_BACK
        if self.tracker.on_pick(pick, s):
            return COUNTED
        if not self.tracker.pending_pick_bins() and early_ok(pick):
            return EARLY
        return EXTRA if pick.bin in self.allowed_bins() else WRONG

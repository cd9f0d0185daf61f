"""The step engine: conditions, debouncing, the state machine of a station's session."""

from oss.engine.conditions import ConditionTracker, has_press
from oss.engine.config import EngineConfig
from oss.engine.engine import StepEngine
from oss.engine.events import WRONG_PICK_HINT

__all__ = ["WRONG_PICK_HINT", "ConditionTracker", "EngineConfig", "StepEngine", "has_press"]

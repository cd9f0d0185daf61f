"""Upper limits on the values of an instruction file (issue 21: bad input must not crash or exhaust).

Every number the station turns into an allocation, a loop or a drawing has a limit, checked by the
loader with ``FILE:LINE:COL`` and the limit in the message, and published in the JSON Schema.
"""

from __future__ import annotations

MAX_BENCH_MM = 5000.0  # a side of the bench
MAX_MARKER_MM = 1000.0  # a fixture marker's side
MAX_HEIGHT_MM = 2000.0  # a marker's height above the bench
MAX_SECONDS = 86400.0  # expected_s, timer seconds
MAX_DWELL_S = 600.0  # hand_in dwell_s
MAX_OVERLAY_MM = 2000.0  # the size of a text or image overlay
MAX_REPEAT = 100  # repeat of one step
MAX_PICK_COUNT = 100  # parts taken in one pick
MAX_SHOWN_NUMBER = 9999  # the value of a number overlay
MAX_RUN_STEPS = 1000  # steps in one unit of a variant, repeats and 'each' expanded
MAX_MEDIA_PIXELS = 16_000_000  # width x height of a pictogram or image

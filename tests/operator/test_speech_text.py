"""A step text is only ever read aloud, never taken by espeak-ng as one of its options (issue 21)."""

from __future__ import annotations

import pytest

from oss.operator.sound import Speaker


@pytest.mark.parametrize("text", ["--version", "-h", "-w /tmp/oss-speech.wav 5 mm"])
def test_a_step_text_starting_with_a_dash_is_spoken_not_obeyed(player, text: str) -> None:
    sp = Speaker(player)
    if not sp.available:
        pytest.skip("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    pcm, rate = sp.synthesize(text, "en")
    assert rate > 8000 and len(pcm) / rate > 0.2  # speech, not espeak-ng's help or version text

"""The station's sounds: generated here, distinct, played through pyglet (silent driver in tests)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from oss.operator.sound import NO_SPEECH, RATE, SOUND_NAMES, Speaker, synth
from oss.records import OssError


def dominant_hz(pcm: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(pcm.astype(float)))
    return float(np.fft.rfftfreq(len(pcm), 1 / RATE)[np.argmax(spec)])


def test_sounds_are_short_loud_enough_clean_and_distinct() -> None:
    waves = {n: synth(n) for n in SOUND_NAMES}
    seconds = {n: len(w) / RATE for n, w in waves.items()}
    assert all(0.05 <= s <= 0.8 for s in seconds.values()), seconds
    for w in waves.values():
        assert w.dtype == np.int16
        peak = np.abs(w).max()
        assert 0.4 * 32767 < peak < 0.8 * 32767  # loud enough, never clipped
        assert abs(int(w[0])) < 500 and abs(int(w[-1])) < 500  # faded in and out: no click
    pitch = {n: dominant_hz(w) for n, w in waves.items()}
    assert pitch["error"] < 300 < pitch["attention"] < 1000 < pitch["done"]  # low buzz, chime, high notes
    assert len({round(s, 2) for s in seconds.values()}) == 4
    # 'done' rises: its last note is higher than its first
    d = waves["done"]
    third = len(d) // 3
    assert dominant_hz(d[-third:]) > dominant_hz(d[:third])


def test_unknown_sound_is_an_error() -> None:
    with pytest.raises(OssError, match="unknown sound"):
        synth("trumpet")


def test_sounds_play_through_pyglet_players(player) -> None:
    assert player.driver == "silent" and "silent" in player.message
    n0 = len(player.played)
    player.play("done", 0.5)
    player.play("error", 0.25)
    assert player.played[n0:] == [("done", 0.5), ("error", 0.25)]
    active = player.players[-2:]
    assert [p.volume for p in active] == [0.5, 0.25]
    assert all(p.playing for p in active)
    assert active[0].source.duration == pytest.approx(len(synth("done")) / RATE)
    time.sleep(0.2)
    assert all(p.time > 0.05 for p in active)  # the driver's clock runs: they are playing


def test_speech_without_espeak_says_what_to_install(player) -> None:
    sp = Speaker(player, which=lambda _name: None)  # as on a station without espeak-ng
    assert not sp.available and sp.message == NO_SPEECH
    n0 = len(player.played)
    sp.say("Put the housing in the jig", "en")
    assert len(player.played) == n0
    assert "apt-get install espeak-ng" in sp.message


def test_speech_with_espeak_reads_the_step_aloud(player) -> None:
    sp = Speaker(player)
    if not sp.available:
        pytest.skip("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
    pcm, rate = sp.synthesize("Leg de behuizing in de mal", "nl")
    assert rate > 8000 and len(pcm) / rate > 0.5 and np.abs(pcm).max() > 1000
    n0 = len(player.played)
    sp.say("Put the housing in the jig", "en", 0.6)
    sp.wait()
    assert player.played[n0:] == [("speech", 0.6)] and sp.spoken[-1] == ("en", "Put the housing in the jig")

"""The station's sounds, made here in code (no sound files), played through pyglet; spoken step text.

Four short sounds, distinct in pitch, rhythm and timbre so that they are told apart without looking:

============ ================================================ ==========
``step``     one soft high blip: a step was recognised as done  0.07 s
``done``     three rising notes (C6-E6-G6): the unit is done     0.36 s
``error``    two low buzzes: a mistake                           0.38 s
``attention`` a two-tone chime, twice: look at the bench / help   0.75 s
============ ================================================ ==========

``SoundPlayer`` plays them with pyglet (``pyglet.media.StaticSource`` from the generated PCM); where no
sound device works it uses pyglet's silent driver and says so in ``driver``/``message``. ``Speaker``
reads step text aloud with espeak-ng (Debian package ``espeak-ng``) through the same player; without
it ``available`` is False and ``message`` says what to install.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import threading
import time
import wave
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from oss.records import OssError

log = logging.getLogger("oss.operator")

RATE = 22050
SOUND_NAMES = ("step", "done", "error", "attention")
DEFAULT_DRIVERS = ("pulse", "openal", "silent")
NO_SPEECH = (
    "spoken step text needs espeak-ng, which is not installed; steps are shown but not read aloud "
    "(Debian/Ubuntu: sudo apt-get install espeak-ng)"
)


def _tone(freq: float, seconds: float, rate: int, *, harmonics: Sequence[float] = (1.0,), decay: float = 0.0):
    t = np.arange(int(seconds * rate)) / rate
    wave_ = np.zeros_like(t)
    for k, a in enumerate(harmonics):
        wave_ += a * np.sin(2 * np.pi * freq * (k + 1) * t)
    wave_ = wave_ / max(1e-9, float(sum(abs(a) for a in harmonics)))
    env = np.ones_like(t)
    ramp = min(len(t) // 4, int(0.006 * rate))  # 6 ms fade in and out: no clicks
    if ramp > 0:
        env[:ramp] = np.linspace(0, 1, ramp)
        env[-ramp:] = np.linspace(1, 0, ramp)
    if decay > 0:
        env = env * np.exp(-t * decay)
    return wave_ * env


def _silence(seconds: float, rate: int) -> np.ndarray:
    return np.zeros(int(seconds * rate))


def synth(name: str, rate: int = RATE) -> np.ndarray:
    """The named sound as mono signed 16-bit PCM at ``rate`` Hz, peak about 70 % of full scale."""
    if name == "step":
        parts = [_tone(1318.5, 0.07, rate, decay=25.0)]
        peak = 0.45
    elif name == "done":
        parts = [_tone(f, 0.12, rate, harmonics=(1.0, 0.3), decay=8.0) for f in (1046.5, 1318.5, 1568.0)]
        peak = 0.7
    elif name == "error":
        buzz = _tone(196.0, 0.15, rate, harmonics=(1.0, 0.0, 0.45, 0.0, 0.25))  # odd harmonics: a buzz
        parts = [buzz, _silence(0.08, rate), buzz]
        peak = 0.75
    elif name == "attention":
        ding = _tone(880.0, 0.18, rate, harmonics=(1.0, 0.5, 0.2), decay=5.0)
        dong = _tone(659.3, 0.18, rate, harmonics=(1.0, 0.5, 0.2), decay=5.0)
        parts = [ding, dong, _silence(0.03, rate), ding, dong]
        peak = 0.7
    else:
        raise OssError(f"unknown sound {name!r}: one of {', '.join(SOUND_NAMES)}")
    sig = np.concatenate(parts)
    sig = sig / max(1e-9, float(np.max(np.abs(sig)))) * peak
    return np.round(sig * 32767).astype(np.int16)


def _pyglet_media(drivers: Sequence[str]) -> Any:
    import sys

    import pyglet

    if "pyglet.media" not in sys.modules:
        pyglet.options["audio"] = tuple(drivers)
        pyglet.options["shadow_window"] = False  # importing pyglet.media must not need an X display
    import pyglet.media

    return pyglet.media


class SoundPlayer:
    """Plays the station's sounds and spoken text through pyglet.

    ``drivers`` are pyglet audio drivers to try in order (they apply when pyglet.media is first
    imported in this process); ``driver`` is the one in use (``silent`` plays nothing but runs the
    same code). ``played`` records (name, volume) of every sound started, for the monitor and tests.
    """

    def __init__(self, drivers: Sequence[str] = DEFAULT_DRIVERS, rate: int = RATE) -> None:
        try:
            media = _pyglet_media(drivers)
            from pyglet.media.codecs.base import AudioFormat, StaticSource
        except Exception as e:  # pyglet raises its own exception types per platform
            raise OssError(
                f"sound output cannot start ({e}); run with sound off in the operator profiles"
            ) from e
        self._media = media
        self._fmt = AudioFormat(channels=1, sample_size=16, sample_rate=rate)

        class PcmSource(StaticSource):  # a StaticSource over PCM bytes (queued any number of times)
            def __init__(self, data: bytes, fmt: AudioFormat) -> None:
                self.audio_format = fmt  # type: ignore[assignment]  # pyglet declares these None
                self._data = data  # type: ignore[assignment]
                self._duration = len(data) / fmt.bytes_per_second  # type: ignore[assignment]

        self._static = PcmSource
        self.rate = rate
        self.sources = {n: self._static(synth(n, rate).tobytes(), self._fmt) for n in SOUND_NAMES}
        drv = media.get_audio_driver()
        self.driver = type(drv).__name__.removesuffix("Driver").lower() if drv is not None else "none"
        self.message = "" if self.driver not in ("silent", "none") else "no sound device: sounds are silent"
        if self.message:
            log.warning("%s", self.message)
        self.played: list[tuple[str, float]] = []
        self._players: list[tuple[Any, float]] = []
        self._lock = threading.Lock()

    def play(self, name: str, volume: float = 1.0) -> None:
        if name not in self.sources:
            raise OssError(f"unknown sound {name!r}: one of {', '.join(SOUND_NAMES)}")
        self._start(self.sources[name], volume)
        self.played.append((name, volume))

    def play_pcm(self, pcm: np.ndarray, rate: int, volume: float = 1.0) -> None:
        """Play mono 16-bit PCM (spoken text)."""
        from pyglet.media.codecs.base import AudioFormat

        fmt = AudioFormat(channels=1, sample_size=16, sample_rate=rate)
        self._start(self._static(pcm.astype(np.int16).tobytes(), fmt), volume)
        self.played.append(("speech", volume))

    def _start(self, source: Any, volume: float) -> None:
        now = time.monotonic()
        with self._lock:
            for p, end in self._players:
                if end < now:
                    p.delete()
            self._players = [(p, end) for p, end in self._players if end >= now]
            player = self._media.Player()
            player.volume = max(0.0, min(1.0, volume))
            player.queue(source)
            player.play()
            self._players.append((player, now + source.duration + 1.0))

    @property
    def players(self) -> list[Any]:
        """The pyglet players of sounds started in the last moments (tests look at their clocks)."""
        with self._lock:
            return [p for p, _ in self._players]

    def close(self) -> None:
        with self._lock:
            for p, _ in self._players:
                p.delete()
            self._players = []


class Speaker:
    """Reads text aloud with espeak-ng, in the background, through a SoundPlayer."""

    def __init__(
        self,
        player: SoundPlayer | None,
        executable: str | None = None,
        which: Callable[[str], str | None] = shutil.which,
    ) -> None:
        self.player = player
        self.executable = executable or which("espeak-ng")
        self.available = self.executable is not None and player is not None
        self.message = "" if self.executable is not None else NO_SPEECH
        self.spoken: list[tuple[str, str]] = []
        self._threads: list[threading.Thread] = []

    def synthesize(self, text: str, language: str) -> tuple[np.ndarray, int]:
        """The text as mono 16-bit PCM and its sample rate (blocking)."""
        if self.executable is None:
            raise OssError(NO_SPEECH)
        try:
            proc = subprocess.run(
                # '--': a text starting with '-' is read aloud, not taken as an option of espeak-ng
                [self.executable, "-v", language, "-s", "150", "--stdout", "--", text],
                capture_output=True,
                timeout=20,
                check=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
            raise OssError(f"espeak-ng could not read the step text in '{language}': {e}") from e
        try:
            with wave.open(io.BytesIO(proc.stdout)) as w:
                if w.getsampwidth() != 2 or w.getnchannels() != 1:
                    raise OssError("espeak-ng gave audio in an unexpected format (not mono 16-bit)")
                pcm = np.frombuffer(w.readframes(w.getnframes()), np.int16)
                return pcm, w.getframerate()
        except (wave.Error, EOFError) as e:
            raise OssError(f"espeak-ng gave no audio for the step text in '{language}' ({e})") from e

    def say(self, text: str, language: str, volume: float = 1.0) -> None:
        """Start reading ``text`` aloud; returns at once. Does nothing (but log once) without espeak-ng."""
        if not text.strip():
            return
        if not self.available or self.player is None:
            return
        self.spoken.append((language, text))
        player = self.player

        def work() -> None:
            try:
                pcm, rate = self.synthesize(text, language)
                player.play_pcm(pcm, rate, volume)
            except OssError as e:
                log.warning("%s", e)

        th = threading.Thread(target=work, name="oss-speech", daemon=True)
        th.start()
        self._threads = [t for t in self._threads if t.is_alive()] + [th]

    def wait(self, timeout: float = 20.0) -> None:
        """Wait until what was started has been handed to the player (tests, shutdown)."""
        for th in self._threads:
            th.join(timeout)

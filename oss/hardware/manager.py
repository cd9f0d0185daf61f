"""All serial devices of one station, called by the station loop once per tick (never blocks).

    with DeviceManager(config.devices, lamps={"bin_screw": 0, "bin_led": 1}) as devices:
        while running:
            for ev in devices.poll_inputs():       # InputEvents from pedals and button boxes
                engine.handle_input(ev)
            for st in devices.status_events():     # DeviceStatus: lost / back, to show and log
                ...
            devices.follow(state, bins_to_light, state.error_bin)

Lights follow the station phase: green running, green blinking when a unit is done, yellow blinking for
help, yellow paused, red on an error; bin lamps are on for the bins of the current step and the wrongly
picked bin blinks.
"""

from __future__ import annotations

import queue
import time
from collections import deque
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

from oss.config import DeviceConfig, StationConfig
from oss.hardware.devices import SerialIndicator, SerialInputDevice, _drain
from oss.hardware.errors import DeviceError
from oss.hardware.link import LinkTiming
from oss.hardware.ports import PortLister, system_ports
from oss.hardware.protocol import INPUT_KINDS
from oss.hardware.records import DeviceStatus, Light
from oss.records import Button, InputEvent, Phase, StationState

LampRef = int | tuple[str, int]  # a lamp index on the (only) pick-to-light, or (device name, index)

_STACK: dict[Phase, tuple[Light, Light, Light]] = {
    Phase.WAITING: (Light.ON, Light.OFF, Light.OFF),
    Phase.RUNNING: (Light.ON, Light.OFF, Light.OFF),
    Phase.DONE: (Light.BLINK, Light.OFF, Light.OFF),
    Phase.PAUSED: (Light.OFF, Light.ON, Light.OFF),
    Phase.HELP: (Light.OFF, Light.BLINK, Light.OFF),
    Phase.ERROR: (Light.OFF, Light.OFF, Light.ON),
    Phase.FINISHED: (Light.OFF, Light.OFF, Light.OFF),
}
_LAMPS_ON = (Phase.RUNNING, Phase.ERROR, Phase.HELP)
CHATTER_LIMIT = 3  # presses of one button in CHATTER_WINDOW_S; more is contact chatter, not a person
CHATTER_WINDOW_S = 1.0
OFF_WAIT_S = 1.0  # seconds a clean stop waits for the lamps to confirm they are off


def stack_lights(phase: Phase) -> tuple[Light, Light, Light]:
    """Green, yellow, red for a station phase."""
    return _STACK[phase]


class DeviceManager:
    """Opens every configured device on its own thread and maps station state to lights."""

    def __init__(
        self,
        devices: Sequence[DeviceConfig],
        *,
        lamps: Mapping[str, LampRef] | None = None,
        buttons: Mapping[str, Mapping[int, Button]] | None = None,
        lister: PortLister = system_ports,
        timing: LinkTiming | None = None,
        chatter_limit: int = CHATTER_LIMIT,
    ) -> None:
        self.chatter_limit = chatter_limit  # presses of one button per CHATTER_WINDOW_S (0: no limit)
        self._events: queue.SimpleQueue[InputEvent] = queue.SimpleQueue()
        self._statuses: queue.SimpleQueue[DeviceStatus] = queue.SimpleQueue()
        self.inputs: list[SerialInputDevice] = []
        self.stacklights: list[SerialIndicator] = []
        self.picklights: dict[str, SerialIndicator] = {}
        names: set[str] = set()
        for cfg in devices:
            name = cfg.name or cfg.kind
            if name in names:
                raise DeviceError(f"two devices are named '{name}': name each in the station file")
            names.add(name)
            if cfg.kind in INPUT_KINDS:
                self.inputs.append(
                    SerialInputDevice(
                        cfg,
                        buttons=(buttons or {}).get(name),
                        events=self._events,
                        statuses=self._statuses,
                        lister=lister,
                        timing=timing,
                    )
                )
            else:
                ind = SerialIndicator(cfg, statuses=self._statuses, lister=lister, timing=timing)
                if cfg.kind == "stacklight":
                    self.stacklights.append(ind)
                else:
                    self.picklights[name] = ind
        self._lamps = self._resolve_lamps(lamps or {})
        self._kinds = {d.name: d.kind for d in self.devices}
        self._recent: dict[tuple[str, Button], list[float]] = {}  # times of presses kept lately
        self._chatter: dict[tuple[str, Button], int] = {}  # presses dropped in the burst going on
        self.latencies: deque[float] = deque(maxlen=1000)

    def _resolve_lamps(self, lamps: Mapping[str, LampRef]) -> dict[str, tuple[str, int]]:
        out: dict[str, tuple[str, int]] = {}
        for bin_id, ref in lamps.items():
            if isinstance(ref, int):
                if len(self.picklights) != 1:
                    raise DeviceError(
                        f"lamp of bin '{bin_id}' gives only an index, but there are {len(self.picklights)} "
                        f"pick-to-light devices: write [device name, index]"
                    )
                ref = (next(iter(self.picklights)), ref)
            dev, index = ref
            if dev not in self.picklights:
                raise DeviceError(f"lamp of bin '{bin_id}' is on '{dev}', which is no configured picklight")
            if index < 0:
                raise DeviceError(f"lamp of bin '{bin_id}': index {index} must be 0 or more")
            out[bin_id] = (dev, index)
        return out

    @classmethod
    def from_station(cls, config: StationConfig, **kw: object) -> DeviceManager:
        """The devices of a station file, with the bin lamps and button maps written there."""
        lamps: dict[str, LampRef] = {}
        buttons: dict[str, dict[int, Button]] = {}
        for d in config.devices:
            name = d.name or d.kind
            for bin_id, index in d.lamps:
                lamps[bin_id] = (name, index)
            if d.buttons:
                buttons[name] = {i: Button(b) for i, b in d.buttons}
        kw.setdefault("lamps", lamps)
        kw.setdefault("buttons", buttons)
        return cls(config.devices, **kw)  # type: ignore[arg-type]

    @property
    def devices(self) -> list[SerialInputDevice | SerialIndicator]:
        return [*self.inputs, *self.stacklights, *self.picklights.values()]

    def open(self) -> None:
        for d in self.devices:
            d.open()

    def close(self) -> None:
        """Lamps off (waiting up to ``OFF_WAIT_S`` for the devices to confirm), then release the ports."""
        self.switch_off()
        for d in self.devices:
            d.close()

    def switch_off(self, timeout: float = OFF_WAIT_S) -> bool:
        """Every stack light and bin lamp dark; True when every connected indicator confirmed it."""
        indicators = [*self.stacklights, *self.picklights.values()]
        for ind in indicators:
            ind.show([Light.OFF] * max(ind.channels, 1))
        end = time.monotonic() + timeout
        pending = [i for i in indicators if i.connected]
        while pending and time.monotonic() < end:
            time.sleep(0.01)
            pending = [i for i in pending if i.connected and not i.acknowledged]
        return not pending

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- each tick ------------------------------------------------------------------------------------

    def poll_inputs(self) -> list[InputEvent]:
        """Presses from all input devices since the last call, in arrival order.

        More than ``chatter_limit`` presses of one button of one device within ``CHATTER_WINDOW_S`` is
        contact chatter (a worn pedal, a loose wire): the extra presses are dropped, and each burst is
        reported once as a status (``device`` event) with how many were dropped."""
        evs = _drain(self._events)
        now = time.monotonic()
        self.latencies.extend(now - e.t for e in evs)
        kept: list[InputEvent] = []
        for e in evs:
            key = (e.device, e.button)
            recent = [x for x in self._recent.get(key, []) if 0.0 <= e.t - x < CHATTER_WINDOW_S]
            if self.chatter_limit and len(recent) >= self.chatter_limit:
                self._chatter[key] = self._chatter.get(key, 0) + 1
                self._recent[key] = recent
                continue
            self._recent[key] = [*recent, e.t]
            kept.append(e)
        for key, n in list(self._chatter.items()):
            if now - max(self._recent[key]) >= CHATTER_WINDOW_S:  # the burst is over: say it once
                del self._chatter[key]
                dev = key[0] or "device"
                self._statuses.put(
                    DeviceStatus(
                        dev,
                        self._kinds.get(dev, ""),
                        True,
                        f"{dev}: {n} {key[1].value} press(es) ignored, more than {self.chatter_limit} in "
                        f"{CHATTER_WINDOW_S:.0f} s (contact chatter: check the switch and its cable)",
                        now,
                    )
                )
        return kept

    def status_events(self) -> list[DeviceStatus]:
        return _drain(self._statuses)

    def connected(self) -> dict[str, bool]:
        return {d.name: d.connected for d in self.devices}

    def follow(self, state: StationState, bins_to_light: Sequence[str], error_bin: str = "") -> None:
        """Stack lights from the phase, bin lamps from the current step (cheap when nothing changed)."""
        stack = stack_lights(state.phase)
        for s in self.stacklights:
            s.show(stack)
        wanted: dict[str, dict[int, Light]] = {name: {} for name in self.picklights}
        if state.phase in _LAMPS_ON:
            for b in bins_to_light:
                if b in self._lamps:
                    dev, i = self._lamps[b]
                    wanted[dev][i] = Light.ON
        if error_bin and state.phase is Phase.ERROR and error_bin in self._lamps:
            dev, i = self._lamps[error_bin]
            wanted[dev][i] = Light.BLINK
        for name, ind in self.picklights.items():
            on = wanted[name]
            n = max([ind.channels, *(i + 1 for i in on)])
            ind.show([on.get(i, Light.OFF) for i in range(n)])

    def round_trips(self) -> list[float]:
        """Seconds from sending an output command to its acknowledgement, recent ones of all indicators."""
        return [rt for d in (*self.stacklights, *self.picklights.values()) for rt in d.link.round_trips]

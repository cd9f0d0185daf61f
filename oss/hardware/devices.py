"""One interface per device kind: ``InputDevice`` (pedal, button box) and ``Indicator`` (stack light,
pick-to-light), each a context manager over a :class:`SerialLink`.

    with SerialInputDevice(DeviceConfig("pedal", port="/dev/ttyUSB0")) as pedal:
        for ev in pedal.read_events():      # InputEvents, from the link's reader thread via a queue
            ...
    with SerialIndicator(DeviceConfig("stacklight", serial_number="SL0001")) as light:
        light.show(stack_lights(Phase.RUNNING))
"""

from __future__ import annotations

import queue
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self, TypeVar

from oss.config import DeviceConfig
from oss.hardware.errors import DeviceError
from oss.hardware.link import LinkTiming, SerialLink
from oss.hardware.ports import PortLister, system_ports
from oss.hardware.protocol import INPUT_KINDS, OUTPUT_KINDS
from oss.hardware.records import DeviceStatus, Light, WireInput
from oss.records import Button, InputEvent

T = TypeVar("T")

DEFAULT_BUTTONS: dict[str, dict[int, Button]] = {
    "pedal": {0: Button.NEXT, 1: Button.BACK},  # a double pedal's second pedal goes back
    "buttonbox": {0: Button.NEXT, 1: Button.BACK, 2: Button.HELP, 3: Button.PAUSE},
}


class _Device(ABC):
    name: str
    kind: str

    @abstractmethod
    def open(self) -> None:
        """Start the device's thread; a device that is not there yet is reported and retried."""

    @abstractmethod
    def close(self) -> None:
        """Stop the thread and release the port; a second call does nothing."""

    @abstractmethod
    def status_events(self) -> list[DeviceStatus]:
        """Connected / lost / back reports since the last call, oldest first."""

    @property
    @abstractmethod
    def connected(self) -> bool: ...

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class InputDevice(_Device):
    """A source of button presses."""

    @abstractmethod
    def read_events(self) -> list[InputEvent]:
        """Presses since the last call, oldest first; never blocks."""


class Indicator(_Device):
    """Lights: a stack light (channels green, yellow, red) or bin lamps (channel = lamp index)."""

    @abstractmethod
    def show(self, lights: Sequence[Light]) -> None:
        """Ask for these channel states; sent at once, and again after a re-plug. Never blocks."""

    @property
    @abstractmethod
    def acknowledged(self) -> bool:
        """The device confirmed the lights last asked for."""


class _SerialDevice(_Device):
    def __init__(
        self,
        config: DeviceConfig,
        *,
        statuses: queue.SimpleQueue[DeviceStatus] | None = None,
        lister: PortLister = system_ports,
        timing: LinkTiming | None = None,
    ) -> None:
        self.name = config.name or config.kind
        self.kind = config.kind
        self._statuses: queue.SimpleQueue[DeviceStatus] = statuses or queue.SimpleQueue()
        self.link = SerialLink(
            self.name, config.kind, port=config.port, serial_number=config.serial_number,
            on_input=self._on_input, on_status=self._statuses.put, lister=lister, timing=timing,
        )

    def _on_input(self, w: WireInput) -> None:
        del w

    def open(self) -> None:
        self.link.open()

    def close(self) -> None:
        self.link.close()

    def status_events(self) -> list[DeviceStatus]:
        return _drain(self._statuses)

    @property
    def connected(self) -> bool:
        return self.link.connected


class SerialInputDevice(_SerialDevice, InputDevice):
    """A pedal or button box. Presses (down edges) become InputEvents; ``raw`` also gets up edges."""

    def __init__(
        self,
        config: DeviceConfig,
        *,
        buttons: Mapping[int, Button] | None = None,
        events: queue.SimpleQueue[InputEvent] | None = None,
        raw: queue.SimpleQueue[WireInput] | None = None,
        statuses: queue.SimpleQueue[DeviceStatus] | None = None,
        lister: PortLister = system_ports,
        timing: LinkTiming | None = None,
    ) -> None:
        if config.kind not in INPUT_KINDS:
            raise DeviceError(f"device '{config.name}': a {config.kind} has no inputs")
        self.buttons = dict(buttons if buttons is not None else DEFAULT_BUTTONS[config.kind])
        self._events: queue.SimpleQueue[InputEvent] = events or queue.SimpleQueue()
        self._raw = raw
        super().__init__(config, statuses=statuses, lister=lister, timing=timing)

    def _on_input(self, w: WireInput) -> None:
        if self._raw is not None:
            self._raw.put(w)
        button = self.buttons.get(w.input)
        if w.down and button is not None:
            self._events.put(InputEvent(button, self.kind, w.t, device=self.name))

    def read_events(self) -> list[InputEvent]:
        return _drain(self._events)


class SerialIndicator(_SerialDevice, Indicator):
    """A stack light or a pick-to-light board."""

    def __init__(
        self,
        config: DeviceConfig,
        *,
        statuses: queue.SimpleQueue[DeviceStatus] | None = None,
        lister: PortLister = system_ports,
        timing: LinkTiming | None = None,
    ) -> None:
        if config.kind not in OUTPUT_KINDS:
            raise DeviceError(f"device '{config.name}': a {config.kind} has no lights")
        super().__init__(config, statuses=statuses, lister=lister, timing=timing)

    def show(self, lights: Sequence[Light]) -> None:
        self.link.set_outputs(lights)

    @property
    def acknowledged(self) -> bool:
        return self.link.outputs_acknowledged

    @property
    def channels(self) -> int:
        """Output channels the device reported (0 until it was first identified)."""
        return self.link.identity.outputs if self.link.identity else 0


def _drain(q: queue.SimpleQueue[T]) -> list[T]:
    out: list[T] = []
    while True:
        try:
            out.append(q.get_nowait())
        except queue.Empty:
            return out

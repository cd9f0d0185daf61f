"""Typed records the device layer hands to the station (status reports, lights, raw input edges)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

LogValue = str | int | float | bool | None


class Light(Enum):
    """One output channel: a stack light colour or a bin lamp. The value is its protocol digit."""

    OFF = "0"
    ON = "1"
    BLINK = "2"


STACK_CHANNELS = ("green", "yellow", "red")


@dataclass(frozen=True)
class DeviceStatus:
    """A device was lost or is back (``ok``), or something the station should log about it.

    The station shows ``message`` and logs it as a ``device`` LogEvent with :meth:`log_data`.
    """

    device: str  # the configured name
    kind: str
    ok: bool
    message: str
    t: float  # monotonic seconds
    port: str = ""
    serial: str = ""

    def log_data(self) -> tuple[tuple[str, LogValue], ...]:
        return (
            ("device", self.device),
            ("kind", self.kind),
            ("ok", self.ok),
            ("message", self.message),
            ("port", self.port),
            ("serial", self.serial),
        )


@dataclass(frozen=True)
class WireInput:
    """One input edge as the device reported it (after de-duplication).

    ``t`` is when the input changed on the host's monotonic clock (receive time minus the age the
    device reported); ``t_received`` when its line was read from the port.
    """

    device: str
    input: int
    down: bool
    seq: int
    t: float
    t_received: float

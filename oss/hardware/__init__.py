"""Serial devices: pedal and button box (inputs), stack light and pick-to-light (indicators).

The station uses :class:`DeviceManager`; the protocol is in :mod:`oss.hardware.protocol` and
docs/hardware.md, the firmware in hardware/firmware, an emulator in :mod:`oss.hardware.emulator`.
"""

from oss.hardware.devices import Indicator, InputDevice, SerialIndicator, SerialInputDevice
from oss.hardware.errors import DeviceError, DeviceNotFound, DeviceTimeout, WrongDevice
from oss.hardware.link import LinkTiming
from oss.hardware.manager import DeviceManager, stack_lights
from oss.hardware.ports import PortInfo, system_ports
from oss.hardware.records import DeviceStatus, Light, WireInput

__all__ = [
    "DeviceError",
    "DeviceManager",
    "DeviceNotFound",
    "DeviceStatus",
    "DeviceTimeout",
    "Indicator",
    "InputDevice",
    "Light",
    "LinkTiming",
    "PortInfo",
    "SerialIndicator",
    "SerialInputDevice",
    "WireInput",
    "WrongDevice",
    "stack_lights",
    "system_ports",
]

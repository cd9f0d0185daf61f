"""The device error family: each message says which device, what happened and what to do."""

from __future__ import annotations

import errno

from oss.records import OssError


class DeviceError(OssError):
    """A serial device cannot be used."""


class DeviceNotFound(DeviceError):
    """No port, or no OSS device with the configured serial number."""


class WrongDevice(DeviceError):
    """Something answered, but not the configured OSS device (another kind, serial or protocol)."""


class DeviceTimeout(DeviceError):
    """The device stopped answering (heartbeat or acknowledgement missing)."""


def open_error(port: str, exc: BaseException) -> DeviceError:
    """Turn an OS/pyserial failure to open ``port`` into an actionable DeviceError."""
    err = getattr(exc, "errno", None)
    text = str(exc)
    if err == errno.EACCES or "Permission denied" in text:
        return DeviceError(
            f"{port}: permission denied. Add the station user to the 'dialout' group "
            f"(sudo usermod -aG dialout $USER, then log out and in) or install the udev rule in "
            f"docs/hardware.md"
        )
    if err in (errno.ENOENT, errno.ENODEV, errno.ENXIO) or "No such file" in text:
        return DeviceNotFound(
            f"{port}: no such port. Is the device plugged in? List ports with 'oss devices list'; "
            f"name the device by serial_number in the station file so a re-plug to another port still works"
        )
    if err in (errno.EBUSY, errno.EAGAIN) or "lock" in text.lower() or "busy" in text.lower():
        return DeviceError(
            f"{port}: port busy. Another program (a second OSS, a serial monitor, ModemManager) has it open; "
            f"close it (for ModemManager see docs/hardware.md)"
        )
    return DeviceError(f"{port}: cannot open ({text}). Re-plug the device, then run 'oss devices list'")

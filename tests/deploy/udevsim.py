"""Run Debian's udev on the OSS rules with a made-up USB serial adapter plugged in, touching nothing real.

Run as root inside a private mount namespace (``unshare --mount --propagation private``, see
:func:`udev_test`): it mounts empty tmpfs over ``/sys``, ``/dev``, ``/run`` and ``/etc/udev/rules.d``,
copies the rules file in, builds the sysfs tree the kernel shows for an Arduino Nano's USB serial chip
(FTDI FT232R with its serial number, or a CH340 without one), and runs ``udevadm test`` on its tty
and on its usb-serial device. The system's own rules in /usr/lib/udev/rules.d run too, as on a
station (they set ID_PATH, /dev/serial/by-id, ...). Everything vanishes with the namespace.

``udevadm test`` of systemd 252 (Debian 12) really applies what the rules say to /dev and to sysfs
attributes, which is why it must never run outside such a namespace.

Prints one JSON object: ``tty`` and ``usb_serial`` (each ``{"rc", "log", "properties"}``), ``node``
(the group and mode udev gave /dev/ttyUSB0) and ``latency_timer`` (what the rules wrote there).
"""

from __future__ import annotations

import grp
import json
import os
import shutil
import stat
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

RULES_NAME = "99-oss.rules"
PCI = "/sys/devices/pci0000:00/0000:00:14.0"


@dataclass(frozen=True)
class FakeAdapter:
    """One USB serial chip as sysfs shows it, on the root hub's port ``socket`` (usb path 1-<socket>)."""

    vendor: str  # "0403"
    product: str  # "6001"
    serial: str | None  # FTDI chips have one, CH340 clones do not
    driver: str  # ftdi_sio, ch341-uart
    socket: int = 2
    product_name: str = "FT232R USB UART"
    manufacturer: str = "FTDI"

    @property
    def id_path(self) -> str:
        """What udev's path_id builtin makes of this place: the name for ENV{ID_PATH} matches."""
        return f"pci-0000:00:14.0-usb-0:{self.socket}:1.0"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _link(path: Path, target: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


def build_sysfs(a: FakeAdapter) -> tuple[Path, Path]:
    """The sysfs tree of ``a`` under /sys (already an empty tmpfs): its tty and usb-serial devices."""
    for d in (
        "bus/usb/drivers/usb",
        f"bus/usb/drivers/{a.driver}",
        f"bus/usb-serial/drivers/{a.driver}",
        "bus/pci",
        "class/tty",
    ):
        Path("/sys", d).mkdir(parents=True, exist_ok=True)
    pci = Path(PCI)
    _write(pci / "uevent", "PCI_SLOT_NAME=0000:00:14.0\n")
    _link(pci / "subsystem", "/sys/bus/pci")
    hub = pci / "usb1"
    _write(hub / "uevent", "DEVTYPE=usb_device\n")
    _link(hub / "subsystem", "/sys/bus/usb")
    usb = hub / f"1-{a.socket}"
    _write(
        usb / "uevent",
        f"DEVTYPE=usb_device\nDRIVER=usb\nPRODUCT={int(a.vendor, 16):x}/"
        f"{int(a.product, 16):x}/600\nBUSNUM=001\nDEVNUM=00{a.socket + 1}\n",
    )
    attrs = {
        "idVendor": a.vendor,
        "idProduct": a.product,
        "bcdDevice": "0600",
        "bDeviceClass": "00",
        "product": a.product_name,
        "manufacturer": a.manufacturer,
    }
    if a.serial is not None:
        attrs["serial"] = a.serial
    for k, v in attrs.items():
        _write(usb / k, v + "\n")
    _link(usb / "subsystem", "/sys/bus/usb")
    _link(usb / "driver", "/sys/bus/usb/drivers/usb")
    intf = usb / f"1-{a.socket}:1.0"
    _write(intf / "uevent", f"DEVTYPE=usb_interface\nDRIVER={a.driver}\n")
    for k, v in {
        "bInterfaceNumber": "00",
        "bInterfaceClass": "ff",
        "bInterfaceSubClass": "ff",
        "bInterfaceProtocol": "ff",
    }.items():
        _write(intf / k, v + "\n")
    _link(intf / "subsystem", "/sys/bus/usb")
    _link(intf / "driver", f"/sys/bus/usb/drivers/{a.driver}")
    port = intf / "ttyUSB0"
    _write(port / "uevent", f"DRIVER={a.driver}\n")
    _write(port / "port_number", "0\n")
    if a.driver == "ftdi_sio":
        _write(port / "latency_timer", "16\n")
    _link(port / "subsystem", "/sys/bus/usb-serial")
    _link(port / "driver", f"/sys/bus/usb-serial/drivers/{a.driver}")
    _link(Path("/sys/bus/usb-serial/devices/ttyUSB0"), str(port))
    tty = port / "tty" / "ttyUSB0"
    _write(tty / "uevent", "MAJOR=188\nMINOR=0\nDEVNAME=ttyUSB0\n")
    _write(tty / "dev", "188:0\n")
    _link(tty / "subsystem", "/sys/class/tty")
    _link(Path("/sys/class/tty/ttyUSB0"), str(tty))
    return Path("/sys/class/tty/ttyUSB0"), Path("/sys/bus/usb-serial/devices/ttyUSB0")


def _run_udevadm(device: Path) -> dict[str, object]:
    env = dict(os.environ, SYSTEMD_DEVICE_VERIFY_SYSFS="0")  # our /sys is a tmpfs, not sysfs
    out = subprocess.run(
        ["udevadm", "test", "--action=add", str(device)], capture_output=True, text=True, env=env, timeout=30
    )
    props: dict[str, str] = {}
    for line in out.stdout.splitlines():
        key, eq, value = line.partition("=")
        if eq and key and " " not in key:
            props[key] = value
    return {"rc": out.returncode, "log": out.stderr + out.stdout, "properties": props}


def main(rules: str, adapter_json: str) -> None:
    a = FakeAdapter(**json.loads(adapter_json))
    for where in ("/sys", "/dev", "/run", "/etc/udev/rules.d"):
        subprocess.run(["mount", "-t", "tmpfs", "tmpfs", where], check=True)
    shutil.copy(rules, f"/etc/udev/rules.d/{RULES_NAME}")
    tty, usb_serial = build_sysfs(a)
    os.mknod("/dev/ttyUSB0", 0o600 | stat.S_IFCHR, os.makedev(188, 0))  # a node in the private tmpfs
    result: dict[str, object] = {"adapter": asdict(a)}
    result["tty"] = _run_udevadm(tty)
    st = os.stat("/dev/ttyUSB0")
    result["node"] = {"group": grp.getgrgid(st.st_gid).gr_name, "mode": f"{stat.S_IMODE(st.st_mode):04o}"}
    result["usb_serial"] = _run_udevadm(usb_serial)
    timer = usb_serial / "latency_timer"
    result["latency_timer"] = timer.read_text().strip() if timer.exists() else None
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

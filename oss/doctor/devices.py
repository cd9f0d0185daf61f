"""Every device of the station file: it answers on its port (or is found by its serial number), says
what it is and its firmware, through the same link the station uses (``oss.hardware.link.SerialLink``)."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Sequence

from oss.config import DeviceConfig, StationConfig
from oss.doctor.result import CheckResult, DataValue, fail, ok, skipped
from oss.hardware.link import LinkTiming, SerialLink
from oss.hardware.ports import PortInfo, PortLister, system_ports
from oss.hardware.records import DeviceStatus

TIMING = LinkTiming()  # the station's own timing: an Arduino needs ~2 s after its port opens
MAX_WAIT_S = 20.0


def _fix(message: str) -> str:
    m = message.lower()
    if "no such port" in m or "not found on any port" in m:
        return (
            "plug it in (into the computer itself, not a hub), or correct 'port:' ('oss devices list' shows "
            "the ports); a device named by serial_number is found on any port"
        )
    if "permission denied" in m:
        return "add the station user to the 'dialout' group (sudo usermod -aG dialout USER, log in again)"
    if "busy" in m:
        return "stop the program that holds the port (a running 'oss run', a serial monitor, ModemManager)"
    if "station file says" in m or "not serial number" in m:
        return "correct 'kind', 'port' or 'serial_number' of this device in the station file"
    if "protocol" in m or "identification" in m:
        return "flash the OSS firmware (hardware/firmware, see docs/hardware.md) and re-plug the device"
    return "re-plug the device, then run 'oss devices list' to see what answers"


def _channels(d: DeviceConfig, link: SerialLink) -> str:
    """What the station file asks of the device that it does not have (lamp or input numbers)."""
    ident = link.identity
    if ident is None:
        return ""
    lamps = [f"lamp {i} of '{b}'" for b, i in d.lamps if i >= ident.outputs]
    buttons = [f"input {i} ({what})" for i, what in d.buttons if i >= ident.inputs]
    if lamps:
        return f"the station file uses {', '.join(lamps)}, but the device has {ident.outputs} lamps (0..{ident.outputs - 1})"
    if buttons:
        return f"the station file uses {', '.join(buttons)}, but the device has {ident.inputs} inputs"
    return ""


def _ask(
    devices: dict[int, DeviceConfig], lister: PortLister, wait: float
) -> dict[int, tuple[SerialLink, DeviceStatus | None]]:
    """Open a link to each device, keep each one's first report (found, or why not), close them again."""
    statuses: queue.SimpleQueue[tuple[int, DeviceStatus]] = queue.SimpleQueue()

    def reporter(i: int) -> Callable[[DeviceStatus], None]:
        return lambda st: statuses.put((i, st))

    links = {
        i: SerialLink(
            d.name or d.kind,
            d.kind,
            port=d.port,
            serial_number=d.serial_number,
            on_status=reporter(i),
            lister=lister,
            timing=TIMING,
        )
        for i, d in devices.items()
    }
    first: dict[int, DeviceStatus] = {}
    try:
        for link in links.values():
            link.open()
        deadline = time.monotonic() + wait
        while len(first) < len(links) and time.monotonic() < deadline:
            try:
                i, st = statuses.get(timeout=0.05)
            except queue.Empty:
                continue
            first.setdefault(i, st)
    finally:
        for link in links.values():
            link.close()
    return {i: (link, first.get(i)) for i, link in links.items()}


def check_devices(cfg: StationConfig, extra_ports: Sequence[str] = ()) -> list[CheckResult]:
    """One line per configured device. ``extra_ports`` are searched for devices named by serial number
    too (an emulator's pseudo-terminal, which the system's port list does not show).

    Devices named by port are asked all at once. Those named by serial number are searched for one
    after the other afterwards: a search skips ports another link of this process holds, so two at once
    could miss each other's device."""
    if not cfg.devices:
        return [skipped("devices", "no devices in the station file: keyboard and touch buttons only")]

    def lister() -> list[PortInfo]:
        return system_ports() + [PortInfo(p, description="(given with --port)") for p in extra_ports]

    by_port = {i: d for i, d in enumerate(cfg.devices) if d.port is not None}
    port_wait = TIMING.identify_s + 1.5
    search_wait = min(MAX_WAIT_S, TIMING.identify_s * max(1, sum(1 for p in lister() if p.probe)) + 1.5)
    answers = _ask(by_port, lister, port_wait) if by_port else {}
    for i, d in enumerate(cfg.devices):
        if i not in by_port:
            answers.update(_ask({i: d}, lister, search_wait))
    return [
        _result(d, *answers[i], port_wait if i in by_port else search_wait) for i, d in enumerate(cfg.devices)
    ]


def _result(d: DeviceConfig, link: SerialLink, st: DeviceStatus | None, wait: float) -> CheckResult:
    name = f"device {d.name or d.kind}"
    where = f"port {d.port}" if d.port else f"serial number {d.serial_number}"
    if st is None:
        return fail(
            name,
            f"{d.kind} at {where}: no answer within {wait:.0f} s",
            _fix("identification"),
        )
    if not st.ok:
        return fail(
            name, st.message, _fix(st.message), kind=d.kind, port=d.port, serial_number=d.serial_number
        )
    ident = link.identity
    assert ident is not None  # an ok status comes only with an identification
    data: dict[str, DataValue] = dict(
        kind=ident.kind,
        port=link.port,
        serial=ident.serial,
        firmware=ident.firmware,
        inputs=ident.inputs,
        outputs=ident.outputs,
    )
    short = _channels(d, link)
    if short:
        return fail(
            name,
            f"{ident.kind} {ident.serial} on {link.port}: {short}",
            "correct lamps/buttons in the station file",
            **data,
        )
    return ok(
        name,
        f"{ident.kind} {ident.serial} on {link.port}, firmware {ident.firmware} (protocol {ident.protocol}), "
        f"{ident.inputs} inputs, {ident.outputs} outputs",
        **data,
    )

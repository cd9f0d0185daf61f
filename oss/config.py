"""The station configuration file: what belongs to the station rather than the product.

Parsed once into :class:`StationConfig` and checked like an instruction file: every problem is
reported as FILE:LINE:COL with what to write instead. Command-line flags override its values.

.. code-block:: yaml

    station: {id: line1-st3}
    camera: {source: 0, width: 1280, height: 720, fps: 30, exposure: -6, white_balance: 4600}
    projector: {display: window, screen: 1, width: 1280, height: 800, escape: pin}
    calibration: ../calibration/line1-st3.yaml
    log: ../out/line1-st3.sqlite
    language: nl
    devices:
      - {kind: pedal, port: /dev/ttyUSB0}
      - {kind: stacklight, serial_number: A7X3K2}
    fleet: {dsn: postgresql://oss@fleet-server/oss}
    monitor: {enabled: true, pin: "4821", screen: 0}   # the supervisor monitor (or OSS_SUPERVISOR_PIN)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import yaml

from oss.instructions.reader import LANG_RE, Reader
from oss.instructions.yamlnodes import FileProblems, Problems, compose_file, path_state, shorten

DISPLAY_KINDS = ("window", "none")
ESCAPE_POLICIES = ("pin", "confirm", "ignore", "quit")  # what Escape does: see oss/station/stopping.py
DEVICE_KINDS = ("pedal", "buttonbox", "stacklight", "picklight")
BUTTON_NAMES = ("next", "back", "help", "pause", "confirm")
PIN_DIGITS = (4, 12)  # a supervisor PIN is this many digits
MAX_IMAGE_SIDE = 8192  # camera and projector width and height, px
MAX_FPS = 1000.0
MAX_SCREEN = 64  # a screen number
MAX_DEVICES = 32
MAX_DEVICE_INPUT = 1023  # a lamp index of a pick-to-light, an input number of a button box
_KV_PASSWORD = re.compile(r"(?:^|\s)(?:ssl)?password\s*=", re.IGNORECASE)


def calibration_problem(cfg: StationConfig) -> str | None:
    """What is wrong with the calibration file a station with a real camera needs, with its place, or None.

    Not part of reading the station file: the file may name a calibration still to be made, and a
    ``sim:`` camera calibrates itself. ``oss run`` asks before anything starts.
    """
    if not cfg.calibration or cfg.camera.startswith("sim:"):
        return None
    where = cfg.calibration_at or "--calibration"
    f = Path(cfg.calibration)
    state = path_state(f)
    if state not in ("file", "folder", "missing"):
        return f"{where}: calibration file '{shorten(str(f), 300)}' cannot be read ({state})"
    if state == "folder":
        return (
            f"{where}: calibration file '{shorten(str(f), 300)}' is a folder; name the calibration file in it"
        )
    if state == "missing":
        return (
            f"{where}: calibration file '{shorten(str(f), 300)}' not found; run 'oss calibrate station' at the "
            "station or fix the path (a relative path is relative to the station file)"
        )
    return None


def screen_languages() -> tuple[str, ...]:
    """The languages OSS has its own screen texts in (``oss/render/strings.py``)."""
    from oss.render.strings import UI

    return tuple(sorted(UI))


def dsn_has_password(dsn: str) -> bool:
    """Whether a libpq DSN holds a password: ``user:pw@`` or ``?password=`` in a URL, ``password=`` in
    key/value form (``sslpassword`` too)."""
    text = dsn.strip()
    if re.match(r"^postgres(ql)?://", text, re.IGNORECASE):
        try:
            url = urlsplit(text)
            if url.password is not None:
                return True
            keys = {k.lower() for k, _ in parse_qsl(url.query, keep_blank_values=True)}
        except ValueError:
            return "password" in text.lower()
        return bool(keys & {"password", "sslpassword"})
    return _KV_PASSWORD.search(text) is not None


def valid_pin(pin: str) -> bool:
    return pin.isascii() and pin.isdigit() and PIN_DIGITS[0] <= len(pin) <= PIN_DIGITS[1]


@dataclass(frozen=True)
class DeviceConfig:
    kind: str
    port: str | None = None
    serial_number: str | None = None
    name: str = ""
    lamps: tuple[tuple[str, int], ...] = ()  # picklight: bin zone id -> lamp index
    buttons: tuple[tuple[int, str], ...] = ()  # buttonbox: input number -> next/back/help/pause/confirm


@dataclass(frozen=True)
class StationConfig:
    station_id: str = "station-1"
    camera: str = "sim:led_basic"
    camera_size: tuple[int, int] = (1280, 720)
    camera_fps: float = 30.0
    exposure: float | None = None
    white_balance: float | None = None
    display: str = "window"
    screen: int = 0
    projector_size: tuple[int, int] = (1280, 800)
    escape: str | None = None  # pin | confirm | ignore | quit (oss.station.stopping); None: by the PIN
    calibration: str | None = None
    calibration_at: str = ""  # FILE:LINE:COL of 'calibration:' in the station file (see calibration_problem)
    log: str = "out/station.sqlite"
    language: str | None = None
    language_at: str = ""  # FILE:LINE:COL of 'language:' in the station file, for messages at run start
    devices: tuple[DeviceConfig, ...] = field(default_factory=tuple)
    touch_buttons: bool = True
    hand_tracking: bool = False
    hand_model: str | None = None
    fleet_dsn: str | None = None  # central PostgreSQL store; no password here (use ~/.pgpass or PGPASSWORD)
    monitor: bool = False  # the supervisor monitor window
    monitor_pin: str | None = None  # its PIN (OSS_SUPERVISOR_PIN in the environment also sets one)
    monitor_screen: int = 0
    source: str = ""


TOP = (
    "station",
    "camera",
    "projector",
    "calibration",
    "log",
    "language",
    "devices",
    "fleet",
    "hands",
    "monitor",
)


def load_station_config(path: str | Path) -> StationConfig:
    """Parse a station file; relative paths in it are relative to the file. Raises FileProblems."""
    path = Path(path)
    root = compose_file(path, "station configuration")
    p = Problems(str(path))
    r = Reader(p)
    top = r.mapping(root, "the station configuration", TOP)
    if top is None:
        raise FileProblems(p.items)
    base = path.parent
    kw: dict[str, object] = {"source": str(path)}

    def rel(s: str) -> str:
        return s if Path(s).is_absolute() else str((base / s).resolve())

    if "station" in top:
        st = r.mapping(top["station"].value, "station", ("id",), ("id",))
        if st and "id" in st:
            sid = r.ident(st["id"].value, "station id")
            if sid:
                kw["station_id"] = sid
    if "camera" in top:
        cam = r.mapping(
            top["camera"].value, "camera", ("source", "width", "height", "fps", "exposure", "white_balance")
        )
        if cam:
            if "source" in cam:
                src = r.string(cam["source"].value, "camera source")
                if src is not None:
                    kw["camera"] = src if src.isdigit() or ":" in src or src.startswith("/dev/") else rel(src)
            w = r.integer(cam["width"].value, "width", 16, MAX_IMAGE_SIDE) if "width" in cam else 1280
            h = r.integer(cam["height"].value, "height", 16, MAX_IMAGE_SIDE) if "height" in cam else 720
            if w and h:
                kw["camera_size"] = (w, h)
            if "fps" in cam:
                kw["camera_fps"] = r.number(cam["fps"].value, "fps", positive=True, maximum=MAX_FPS) or 30.0
            if "exposure" in cam:
                kw["exposure"] = r.number(cam["exposure"].value, "exposure")
            if "white_balance" in cam:
                kw["white_balance"] = r.number(cam["white_balance"].value, "white_balance", positive=True)
    if "projector" in top:
        pr = r.mapping(
            top["projector"].value, "projector", ("display", "screen", "width", "height", "escape")
        )
        if pr:
            if "display" in pr:
                disp = r.string(pr["display"].value, "display")
                if disp is not None and disp not in DISPLAY_KINDS:
                    p.error(
                        pr["display"].value,
                        f"display must be one of {', '.join(DISPLAY_KINDS)}, not '{disp}'",
                    )
                elif disp:
                    kw["display"] = disp
            if "screen" in pr:
                kw["screen"] = r.integer(pr["screen"].value, "screen", 0, MAX_SCREEN) or 0
            if "escape" in pr:
                esc = r.string(pr["escape"].value, "escape")
                if esc is not None and esc not in ESCAPE_POLICIES:
                    p.error(
                        pr["escape"].value,
                        f"escape must be one of {', '.join(ESCAPE_POLICIES)}, not '{esc}' (pin: Escape asks "
                        f"for the supervisor PIN; confirm: a second Escape stops; ignore: a kiosk; quit)",
                    )
                elif esc:
                    kw["escape"] = esc
            w = r.integer(pr["width"].value, "width", 16, MAX_IMAGE_SIDE) if "width" in pr else 1280
            h = r.integer(pr["height"].value, "height", 16, MAX_IMAGE_SIDE) if "height" in pr else 800
            if w and h:
                kw["projector_size"] = (w, h)
    if "calibration" in top:
        cnode = top["calibration"].value
        c = r.string(cnode, "calibration")
        if c:  # checked when a station needs it (a sim: camera does not; 'oss calibrate' makes it)
            kw["calibration"] = rel(c)
            kw["calibration_at"] = str(p.pos(cnode))
    if "log" in top:
        lg = r.string(top["log"].value, "log")
        if lg:
            kw["log"] = rel(lg)
    if "language" in top:
        lnode = top["language"].value
        lang = r.string(lnode, "language")
        if lang is not None and not LANG_RE.match(lang):
            p.error(
                lnode,
                f"language '{shorten(lang)}' is not a language code; OSS has screen texts in "
                f"{', '.join(screen_languages())}, and step texts in the instruction's languages "
                "(codes like en, nl, de, pt-BR)",
            )
        elif lang is not None:
            kw["language"] = lang
            kw["language_at"] = str(p.pos(lnode))
    if "devices" in top:
        devs = []
        items = r.sequence(top["devices"].value, "devices")
        if len(items) > MAX_DEVICES:
            p.error(top["devices"].value, f"a station has at most {MAX_DEVICES} devices, not {len(items)}")
            items = []
        for n in items:
            d = r.mapping(
                n, "a device", ("kind", "port", "serial_number", "name", "lamps", "buttons"), ("kind",)
            )
            if d is None or "kind" not in d:
                continue
            kind = r.string(d["kind"].value, "device kind")
            if kind not in DEVICE_KINDS:
                p.error(
                    d["kind"].value,
                    f"device kind must be one of {', '.join(DEVICE_KINDS)}, not '{shorten(str(kind))}'",
                )
                continue
            port = r.string(d["port"].value, "port") if "port" in d else None
            sn = r.string(d["serial_number"].value, "serial_number") if "serial_number" in d else None
            if port is None and sn is None:
                p.error(n, "a device needs 'port' (like /dev/ttyUSB0) or 'serial_number' (see 'oss devices')")
                continue
            name = (r.string(d["name"].value, "name") or "") if "name" in d else ""
            lamps: list[tuple[str, int]] = []
            if "lamps" in d:
                if kind != "picklight":
                    p.error(d["lamps"].key, "only a picklight device has 'lamps'")
                for bin_id, e in r.id_mapping(d["lamps"].value, "lamps"):
                    idx = r.integer(e.value, f"lamp index of '{bin_id}'", 0, MAX_DEVICE_INPUT)
                    if idx is not None:
                        lamps.append((bin_id, idx))
            buttons: list[tuple[int, str]] = []
            if "buttons" in d:
                if kind != "buttonbox":
                    p.error(d["buttons"].key, "only a buttonbox device has 'buttons'")
                bm = d["buttons"].value
                if isinstance(bm, yaml.MappingNode):
                    for knode, vnode in bm.value:
                        num = r.integer(knode, "button input number", 0, MAX_DEVICE_INPUT)
                        what = r.string(vnode, "button")
                        if what is not None and what not in BUTTON_NAMES:
                            p.error(
                                vnode,
                                f"button must be one of {', '.join(BUTTON_NAMES)}, not '{shorten(what)}'",
                            )
                        elif num is not None and what is not None:
                            buttons.append((num, what))
                else:
                    p.error(bm, "buttons must map input numbers to buttons, like {0: next, 1: back, 2: help}")
            devs.append(DeviceConfig(kind, port, sn, name or kind, tuple(lamps), tuple(buttons)))
        kw["devices"] = tuple(devs)
    if "hands" in top:
        hd = r.mapping(top["hands"].value, "hands", ("touch_buttons", "tracking", "model"))
        if hd:
            if "touch_buttons" in hd:
                kw["touch_buttons"] = bool(r.boolean(hd["touch_buttons"].value, "touch_buttons"))
            if "tracking" in hd:
                kw["hand_tracking"] = bool(r.boolean(hd["tracking"].value, "tracking"))
            if "model" in hd:
                m = r.string(hd["model"].value, "model")
                if m:
                    kw["hand_model"] = rel(m)
    if "fleet" in top:
        fl = r.mapping(top["fleet"].value, "fleet", ("dsn",), ("dsn",))
        if fl and "dsn" in fl:
            dsn = r.string(fl["dsn"].value, "fleet dsn")
            if dsn is not None and dsn_has_password(dsn):
                p.error(
                    fl["dsn"].value,
                    "don't write the password in the station file: put it in ~/.pgpass or PGPASSWORD",
                )
            elif dsn:
                kw["fleet_dsn"] = dsn
    if "monitor" in top:
        mo = r.mapping(top["monitor"].value, "monitor", ("enabled", "pin", "screen"))
        if mo:
            kw["monitor"] = bool(r.boolean(mo["enabled"].value, "enabled")) if "enabled" in mo else True
            if "pin" in mo:
                pin = r.string(mo["pin"].value, "pin")
                if pin is not None and not valid_pin(pin):
                    lo, hi = PIN_DIGITS
                    p.error(mo["pin"].value, f'pin must be {lo} to {hi} digits, like "4821" (in quotes)')
                elif pin:
                    kw["monitor_pin"] = pin
            if "screen" in mo:
                kw["monitor_screen"] = r.integer(mo["screen"].value, "screen", 0, MAX_SCREEN) or 0
    if p.errors:
        raise FileProblems(p.items)
    return StationConfig(**kw)  # type: ignore[arg-type]

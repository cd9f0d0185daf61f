"""The udev rules in deploy/udev/99-oss.rules: stable /dev/oss-* names by USB identity, dialout access.

* Debian's own udev (``udevadm test``, systemd 252) reads the rules and applies them, together with the
  system's rules, to made-up USB serial adapters in a private mount namespace (tests/deploy/udevsim.py):
  an FTDI board with each named serial number gets its /dev/oss-* name, group dialout, mode 0660 and the
  1 ms latency timer; an FTDI board with another serial number and a CH340 board get no name; the
  CH340 lines (commented out in the file) name a CH340 board by its USB socket once enabled. udev of
  Debian 12 has no ``udevadm verify``; a line it cannot parse is reported here as FILE:LINE.
* Without root (the namespace needs it) the same file still gets a strict syntax check of every
  line, the commented CH340 lines too.
* The names in the rules are the ports of the example station files, kind for kind.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

from oss.config import DEVICE_KINDS, load_station_config
from tests.deploy.conftest import RULES, STATIONS, missing, need_tool
from tests.deploy.udevsim import RULES_NAME, FakeAdapter

FTDI = ("0403", "6001")
CH340 = ("1a86", "7523")

# udev's rule keys (udev(7)): which take a {attribute}, which only match, which only assign
KEYS_WITH_ATTR = {"ATTR", "ATTRS", "ENV", "SYSCTL", "TEST", "IMPORT", "CONST", "SECLABEL"}
MATCH_ONLY = {
    "ACTION",
    "DEVPATH",
    "KERNEL",
    "KERNELS",
    "SUBSYSTEM",
    "SUBSYSTEMS",
    "DRIVER",
    "DRIVERS",
    "ATTRS",
    "TAGS",
    "TEST",
    "PROGRAM",
    "RESULT",
    "CONST",
}
ASSIGN_ONLY = {"OWNER", "GROUP", "MODE", "SECLABEL", "RUN", "LABEL", "GOTO", "IMPORT", "OPTIONS"}
BOTH = {"NAME", "SYMLINK", "ATTR", "SYSCTL", "ENV", "TAG"}
TOKEN = re.compile(r'(?P<key>[A-Z_]+)(?:\{(?P<attr>[^{}"]+)\})?(?P<op>==|!=|\+=|-=|:=|=)"(?P<value>[^"]*)"')


def rule_lines(text: str, commented: bool = False) -> list[tuple[int, str]]:
    """(line number, rule) of each rule; ``commented``: the rules written behind a '#' (the CH340 ones)."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if commented and re.match(r"#[A-Z]+[{=!+:-]", line):
            out.append((n, line[1:]))
        elif not commented and line.strip() and not line.lstrip().startswith("#"):
            out.append((n, line))
    return out


def parse_rule(line: str) -> list[tuple[str, str | None, str, str]]:
    """The (key, attribute, operator, value) tokens of one rule; AssertionError on anything else."""
    tokens, pos = [], 0
    while True:
        m = TOKEN.match(line, pos)
        assert m, f'cannot read a KEY=="value" at column {pos + 1}: {line[pos : pos + 40]!r}'
        key, attr, op, value = m["key"], m["attr"], m["op"], m["value"]
        assert key in MATCH_ONLY | ASSIGN_ONLY | BOTH, f"unknown key {key}"
        assert (attr is not None) == (key in KEYS_WITH_ATTR), f"{key} with/without {{attribute}}"
        if key in MATCH_ONLY:
            assert op in ("==", "!="), f"{key} only matches (== or !=), not {op}"
        if key in ASSIGN_ONLY:
            assert op not in ("==", "!="), f"{key} is only assigned, not compared ({op})"
        if key == "MODE":
            assert re.fullmatch(r"0[0-7]{3}", value), f"MODE {value!r} is not an octal mode like 0660"
        if attr in ("idVendor", "idProduct"):
            assert re.fullmatch(r"[0-9a-f]{4}", value), f"{attr} must be 4 lower-case hex digits"
        tokens.append((key, attr, op, value))
        pos = m.end()
        if pos == len(line.rstrip()):
            return tokens
        assert line[pos : pos + 2] == ", ", f"', ' expected between keys at column {pos + 1}"
        pos += 2


def names(text: str, commented: bool = False) -> dict[str, list[dict[str | None, str]]]:
    """oss-* name -> the ATTRS{...}/ENV{...} matches of each rule that gives it."""
    out: dict[str, list[dict[str | None, str]]] = {}
    for _, line in rule_lines(text, commented):
        toks = parse_rule(line)
        for key, _, _, value in toks:
            if key == "SYMLINK" and value.startswith("oss-"):
                out.setdefault(value, []).append({a: v for k, a, o, v in toks if o == "==" and a})
    return out


@pytest.mark.parametrize("commented", [False, True], ids=["active", "ch340-lines"])
def test_every_rule_is_well_formed(commented: bool) -> None:
    text = RULES.read_text()
    lines = rule_lines(text, commented)
    assert lines
    labels = {v for _, line in lines for k, _, _, v in parse_rule(line) if k == "LABEL"}
    for n, line in lines:
        try:
            toks = parse_rule(line)
        except AssertionError as e:
            pytest.fail(f"{RULES}:{n}: {e}")
        for key, _, _, value in toks:
            if key == "GOTO":
                assert value in labels, f"{RULES}:{n}: GOTO {value} has no LABEL"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ('SUBSYSTEM="tty", GROUP="dialout"', "SUBSYSTEM only matches"),
        ('KERNEL=="ttyUSB*", GROUP=="dialout"', "GROUP is only assigned"),
        ('KERNEL=="ttyUSB*", MODE="660"', "not an octal mode"),
        ('ATTRS{idVendor}=="0403" ,SYMLINK+="oss-pedal"', "', ' expected"),
        ('ATTRS{idVendor}=="403", SYMLINK+="oss-pedal"', "4 lower-case hex digits"),
        ('ATTRS{idVendor}=="0403", SYMLNK+="oss-pedal"', "unknown key SYMLNK"),
        ("ATTRS{idVendor}=='0403'", "cannot read"),
        ('SYMLINK{x}+="oss-pedal"', "SYMLINK with/without"),
    ],
)
def test_the_syntax_check_finds(line: str, error: str) -> None:
    with pytest.raises(AssertionError, match=re.escape(error)):
        parse_rule(line)


def test_names_are_the_ports_of_the_station_files() -> None:
    text = RULES.read_text()
    wanted = {f"oss-{kind}" for kind in DEVICE_KINDS}
    assert set(names(text)) == wanted and set(names(text, commented=True)) == wanted
    for rules in names(text).values():
        assert (
            len(rules) == 1 and (rules[0]["idVendor"], rules[0]["idProduct"]) == FTDI and rules[0]["serial"]
        )
    for rules in names(text, commented=True).values():
        assert (
            len(rules) == 1 and (rules[0]["idVendor"], rules[0]["idProduct"]) == CH340 and rules[0]["ID_PATH"]
        )
    used = set()
    for path in STATIONS:
        for d in load_station_config(path).devices:
            assert d.port is not None and d.port.startswith("/dev/oss-"), f"{path.name}: {d.name}"
            assert d.port == f"/dev/oss-{d.kind}", f"{path.name}: a {d.kind} on {d.port}"
            used.add(d.port.removeprefix("/dev/"))
    assert used == wanted  # every named device is used by an example station, and nothing else is
    full = [p for p in STATIONS if {d.kind for d in load_station_config(p).devices} == set(DEVICE_KINDS)]
    assert full, "one example station file has every device the rules name"


# --- Debian's udev on made-up adapters -------------------------------------------------------------


@pytest.fixture(scope="module")
def sandbox() -> str:
    """``unshare`` for a private mount namespace (root), and ``udevadm`` with the system's rules."""
    need_tool("udevadm", "udev")
    unshare = need_tool("unshare", "util-linux")
    if os.geteuid() != 0:
        missing("udevadm test in a private mount namespace needs root")
    probe = subprocess.run(
        [unshare, "--mount", "--propagation", "private", "true"], capture_output=True, text=True, timeout=30
    )
    if probe.returncode != 0:
        missing(f"cannot make a private mount namespace ({probe.stderr.strip()}): needs CAP_SYS_ADMIN")
    if not Path("/usr/lib/udev/rules.d/60-serial.rules").exists():
        missing("the system's udev rules are not installed (Debian: apt-get install udev)")
    return unshare


def udev_run(unshare: str, rules: Path, adapter: FakeAdapter) -> dict:
    out = subprocess.run(
        [
            unshare,
            "--mount",
            "--propagation",
            "private",
            sys.executable,
            str(Path(__file__).with_name("udevsim.py")),
            str(rules),
            json.dumps(asdict(adapter)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout)
    for part in ("tty", "usb_serial"):
        log = result[part]["log"]
        assert result[part]["rc"] == 0, log[-3000:]
        # a rule udev cannot read is logged as FILE:LINE message while the rules load
        errors = [line for line in log.splitlines() if line.startswith(f"/etc/udev/rules.d/{RULES_NAME}:")]
        assert not errors, "\n".join(errors)
        assert f"Reading rules file: /etc/udev/rules.d/{RULES_NAME}" in log
    return result


def oss_links(result: dict) -> set[str]:
    return {link for link in result["tty"]["properties"].get("DEVLINKS", "").split() if "/oss-" in link}


def ftdi(serial: str | None) -> FakeAdapter:
    return FakeAdapter(*FTDI, serial=serial, driver="ftdi_sio")


@pytest.mark.parametrize("name", sorted(f"oss-{k}" for k in DEVICE_KINDS))
def test_udev_names_an_ftdi_board_by_its_serial_number(sandbox: str, name: str) -> None:
    serial = names(RULES.read_text())[name][0]["serial"]
    r = udev_run(sandbox, RULES, ftdi(serial))
    assert oss_links(r) == {f"/dev/{name}"}
    assert r["node"] == {"group": "dialout", "mode": "0660"}
    assert r["tty"]["properties"].get("ID_MM_DEVICE_IGNORE") == "1"  # ModemManager keeps off
    assert "/dev/serial/by-id/" in r["tty"]["properties"]["DEVLINKS"]  # the system's rules ran as well
    # udevadm test logs the attribute it writes (it does not write it: sysfs is made up here)
    assert re.search(r"latency_timer' writing '1'", r["usb_serial"]["log"]), r["usb_serial"]["log"][-2000:]


def test_udev_gives_other_boards_access_but_no_name(sandbox: str) -> None:
    r = udev_run(sandbox, RULES, ftdi("A9OTHER1"))
    assert oss_links(r) == set() and r["node"] == {"group": "dialout", "mode": "0660"}
    r = udev_run(
        sandbox,
        RULES,
        FakeAdapter(
            *CH340,
            serial=None,
            driver="ch341-uart",
            socket=3,
            product_name="USB Serial",
            manufacturer="QinHeng",
        ),
    )
    assert oss_links(r) == set() and r["node"] == {"group": "dialout", "mode": "0660"}
    assert "latency_timer" not in r["usb_serial"]["log"]  # only FTDI chips have one


def test_udev_names_a_ch340_board_by_its_socket_once_enabled(sandbox: str, tmp_path: Path) -> None:
    text = RULES.read_text()
    enabled = tmp_path / RULES_NAME  # the CH340 lines with their '#' removed, as docs/install.md says
    enabled.write_text(
        "\n".join(line[1:] if re.match(r"#[A-Z]+[{=]", line) else line for line in text.splitlines()) + "\n"
    )
    for name, rules in names(text, commented=True).items():
        m = re.fullmatch(r"pci-0000:00:14\.0-usb-0:(\d+):1\.0", rules[0]["ID_PATH"])
        assert m, rules[0]["ID_PATH"]
        board = FakeAdapter(
            *CH340,
            serial=None,
            driver="ch341-uart",
            socket=int(m.group(1)),
            product_name="USB Serial",
            manufacturer="QinHeng",
        )
        assert board.id_path == rules[0]["ID_PATH"]
        r = udev_run(sandbox, enabled, board)
        assert oss_links(r) == {f"/dev/{name}"}, name
        assert r["tty"]["properties"]["ID_PATH"] == board.id_path
        assert r["node"] == {"group": "dialout", "mode": "0660"}


def test_udev_reports_a_broken_rule(sandbox: str, tmp_path: Path) -> None:
    broken = tmp_path / RULES_NAME
    broken.write_text(RULES.read_text().replace('SUBSYSTEM!="tty"', 'SUBSYSTEM="tty"'))
    with pytest.raises(AssertionError, match=rf"{RULES_NAME}:\d+"):
        udev_run(sandbox, broken, ftdi("A9OTHER1"))

"""Arms, hands and a leaning person as flat 3-D polygons (bench mm, z up) with an albedo colour each.

The renderer projects them into the camera, casts their shadows from the projector and darkens the bench
beneath them. Shapes are rough on purpose: what matters to perception is the silhouette seen from above,
its colour, its height (parallax) and what it covers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oss.sim.scene import BGR

UPPER_ARM_MM = 300.0
FOREARM_MM = 270.0
HAND_MM = 185.0  # wrist to fingertips


@dataclass(frozen=True, eq=False)
class Blob:
    """A convex-ish flat polygon in bench mm (N×3) drawn with albedo ``color``."""

    pts: np.ndarray
    color: BGR
    shadow: float = 1.0  # how much it shades the bench below (0: none)


def _quad(a: np.ndarray, b: np.ndarray, wa: float, wb: float) -> np.ndarray:
    """A band from 3-D point a (width wa) to b (width wb), flat in the horizontal direction."""
    d = b[:2] - a[:2]
    n = np.linalg.norm(d)
    d = np.array([1.0, 0.0]) if n < 1e-6 else d / n
    perp = np.array([-d[1], d[0], 0.0])
    return np.array([a + perp * wa / 2, b + perp * wb / 2, b - perp * wb / 2, a - perp * wa / 2])


def _disc(c: np.ndarray, r: float, n: int = 10, squash: float = 1.0, angle: float = 0.0) -> np.ndarray:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    x, y = r * np.cos(t), r * squash * np.sin(t)
    ca, sa = math.cos(angle), math.sin(angle)
    return np.column_stack([c[0] + ca * x - sa * y, c[1] + sa * x + ca * y, np.full(n, c[2])])


def shoulder_for(side: str, operator_x: float) -> np.ndarray:
    return np.array([operator_x + (190.0 if side == "right" else -190.0), -300.0, 380.0])


def arm(
    tip: np.ndarray,
    side: str,
    operator_x: float,
    skin: BGR,
    sleeve: BGR,
    grip: float,
    carried: tuple[tuple[float, float], BGR] | None = None,
) -> tuple[list[Blob], list[np.ndarray]]:
    """The arm whose fingertips are at ``tip`` (bench mm, 3-D); ``grip`` 0 = open flat hand, 1 = closed.

    Returns the blobs (drawn in order) and the footprint (convex quads, bench mm) of hand and forearm.
    """
    s = shoulder_for(side, operator_x)
    tip = np.asarray(tip, np.float64)
    d = tip[:2] - s[:2]
    dn = np.linalg.norm(d)
    dirh = d / dn if dn > 1e-6 else np.array([0.0, 1.0])
    hand_len = HAND_MM * (1.0 - 0.3 * grip)
    wrist = np.array([tip[0] - dirh[0] * hand_len, tip[1] - dirh[1] * hand_len, tip[2] + 25.0])
    # two-bone arm, elbow bent outward and down
    sw = wrist - s
    dist = float(np.linalg.norm(sw))
    l1, l2 = UPPER_ARM_MM, FOREARM_MM
    if dist >= l1 + l2 - 1:
        elbow = s + sw * l1 / (l1 + l2)
    else:
        a = (l1 * l1 - l2 * l2 + dist * dist) / (2 * dist)
        hgt = math.sqrt(max(l1 * l1 - a * a, 0.0))
        u = sw / dist
        out = np.array([1.0 if side == "right" else -1.0, 0.0, -1.2])
        out -= u * float(out @ u)
        nrm = np.linalg.norm(out)
        out = out / nrm if nrm > 1e-6 else np.array([0.0, 0.0, -1.0])
        elbow = s + u * a + out * hgt
    elbow[2] = max(elbow[2], 60.0)
    sleeve_end = wrist + (elbow - wrist) * 0.45
    blobs = [
        Blob(_quad(s, elbow, 120, 98), sleeve, 0.6),
        Blob(_disc(elbow, 49), sleeve, 0.6),
        Blob(_quad(elbow, sleeve_end, 98, 88), sleeve, 0.8),
        Blob(_quad(sleeve_end, wrist, 70, 58), skin),
    ]
    ang = math.atan2(dirh[1], dirh[0])
    knuckle = wrist + np.array([dirh[0], dirh[1], 0]) * (hand_len * 0.55)
    knuckle[2] = (wrist[2] + tip[2]) / 2
    palm_w = 88.0 - 18.0 * grip
    blobs.append(Blob(_quad(wrist, knuckle, 62, palm_w), skin))
    inward = -1.0 if side == "right" else 1.0
    perp = np.array([-dirh[1], dirh[0], 0.0])
    # the thumb sticks out on the side toward the body's centre line
    thumb_base = wrist + np.array([dirh[0], dirh[1], 0]) * 30 + perp * inward * 28
    thumb_tip = (
        thumb_base + np.array([dirh[0], dirh[1], 0]) * (55 - 25 * grip) + perp * inward * (38 - 22 * grip)
    )
    if carried is not None:
        (cw, ch), ccol = carried
        cx, cy = tip[0] - dirh[0] * 25, tip[1] - dirh[1] * 25
        ca, sa = math.cos(ang), math.sin(ang)
        corners = np.array([[-ch / 2, -cw / 2], [ch / 2, -cw / 2], [ch / 2, cw / 2], [-ch / 2, cw / 2]])
        pts = np.column_stack(
            [
                cx + ca * corners[:, 0] - sa * corners[:, 1],
                cy + sa * corners[:, 0] + ca * corners[:, 1],
                np.full(4, max(tip[2] - 12.0, 1.0)),
            ]
        )
        blobs.insert(0, Blob(pts, ccol, 0.9))
    blobs.append(Blob(_quad(thumb_base, thumb_tip, 24, 20), skin))
    spread = (1.0 - grip) * 0.16
    for i, off in enumerate((-1.5, -0.5, 0.5, 1.5)):
        base = knuckle + perp * off * palm_w / 4.2
        a = ang + off * spread
        flen = (hand_len * 0.45) * (0.85 if i in (0, 3) else 1.0)
        ftip = base + np.array([math.cos(a), math.sin(a), 0.0]) * flen
        ftip[2] = tip[2]
        blobs.append(Blob(_quad(base, ftip, 19, 16), skin))
    foot = [_quad(sleeve_end, wrist, 70, 58)[:, :2], _quad(wrist, tip, 62, palm_w + 10)[:, :2]]
    return blobs, foot


def leaning_person(x: float, reach: float, height: float, skin: BGR, shirt: BGR) -> list[Blob]:
    """A second person leaning over the bench from the operator's side; ``reach`` is how far (mm) the head
    comes past the front edge."""
    head = np.array([x, reach - 110.0, height])
    shoulders = np.array([x, reach - 300.0, height - 140.0])
    hair = (40, 45, 55)
    return [
        Blob(_disc(shoulders, 230, 16, squash=0.55), shirt, 0.5),
        Blob(_disc(head + np.array([0, -15, -10]), 85, 14, squash=1.15), skin, 0.5),
        Blob(_disc(head, 88, 14, squash=1.05), hair, 0.5),
        Blob(
            _quad(shoulders + np.array([-200, 0, -40]), np.array([x - 260, reach - 80, 80.0]), 95, 80),
            shirt,
            0.6,
        ),
    ]

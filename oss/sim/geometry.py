"""True optics of the virtual bench: a pinhole camera and a pinhole projector above the bench plane.

A device is placed by its centre ``position`` (bench mm, z up), the bench point it ``look_at``, a roll
about its optical axis and a focal length in pixels. Image "up" points away from the operator (bench +y),
image "right" to the operator's right (bench +x), as at a real station where the operator stands at the
bottom of the image. The principal point may be shifted (``principal_shift``, fraction of the image
height, positive down) as projectors with lens shift have it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np


@dataclass(frozen=True)
class Pinhole:
    """One device's true geometry. ``dist`` holds OpenCV's (k1, k2, p1, p2, k3)."""

    size: tuple[int, int]  # (width, height) px
    position: tuple[float, float, float]  # bench mm
    look_at: tuple[float, float]  # bench mm, z = 0
    focal_px: float
    roll_deg: float = 0.0
    principal_shift: float = 0.0
    dist: tuple[float, float, float, float, float] = (0.0, 0.0, 0.0, 0.0, 0.0)

    @cached_property
    def camera_matrix(self) -> np.ndarray:
        w, h = self.size
        return np.array(
            [
                [self.focal_px, 0.0, w / 2.0],
                [0.0, self.focal_px, h / 2.0 + self.principal_shift * h],
                [0, 0, 1.0],
            ]
        )

    @cached_property
    def rotation(self) -> np.ndarray:
        """Rows are the device's x (image right), y (image down) and z (forward) axes in bench mm."""
        c = np.asarray(self.position, dtype=np.float64)
        target = np.array([self.look_at[0], self.look_at[1], 0.0])
        z = target - c
        z /= np.linalg.norm(z)
        x = np.cross(np.array([0.0, -1.0, 0.0]), z)
        if np.linalg.norm(x) < 1e-9:  # looking along y: fall back to bench x as image right
            x = np.array([1.0, 0.0, 0.0])
        x /= np.linalg.norm(x)
        y = np.cross(z, x)
        r = np.stack([x, y, z])
        a = math.radians(self.roll_deg)
        roll = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1.0]])
        return roll @ r

    @cached_property
    def rvec_tvec(self) -> tuple[np.ndarray, np.ndarray]:
        r = self.rotation
        t = -r @ np.asarray(self.position, dtype=np.float64)
        rvec, _ = cv2.Rodrigues(r)
        return rvec.ravel(), t

    def from_bench(self) -> np.ndarray:
        """Homography bench mm (z = 0) → undistorted image px."""
        r = self.rotation
        t = -r @ np.asarray(self.position, dtype=np.float64)
        h = self.camera_matrix @ np.column_stack([r[:, 0], r[:, 1], t])
        return h / h[2, 2]

    def project(self, pts3: np.ndarray) -> np.ndarray:
        """Bench mm points (N×3) → raw image px (N×2), lens distortion applied."""
        rvec, tvec = self.rvec_tvec
        out, _ = cv2.projectPoints(
            np.asarray(pts3, np.float64).reshape(-1, 1, 3),
            rvec,
            tvec,
            self.camera_matrix,
            np.asarray(self.dist),
        )
        return out.reshape(-1, 2)

    def moved(self, dx: float, dy: float, angle_deg: float = 0.0, tilt_deg: float = 0.0) -> Pinhole:
        """The device after a bump: shifted by (dx, dy) mm, turned ``angle_deg`` about the vertical through
        its centre and tilted ``tilt_deg`` (its view slides toward +y)."""
        px, py, pz = self.position
        lx, ly = self.look_at
        a = math.radians(angle_deg)
        rx, ry = lx - px, ly - py
        lx2 = px + math.cos(a) * rx - math.sin(a) * ry
        ly2 = py + math.sin(a) * rx + math.cos(a) * ry
        ly2 += math.tan(math.radians(tilt_deg)) * pz
        return Pinhole(
            self.size,
            (px + dx, py + dy, pz),
            (lx2 + dx, ly2 + dy),
            self.focal_px,
            self.roll_deg,
            self.principal_shift,
            self.dist,
        )

    def rigid(self, dx: float, dy: float, angle_deg: float) -> Pinhole:
        """This device seen from a bench frame moved by (dx, dy, angle) about the bench origin: used when the
        bench itself is bumped (bench and everything on it move, camera and projector stay)."""
        a = -math.radians(angle_deg)
        c, s = math.cos(a), math.sin(a)

        def inv(x: float, y: float) -> tuple[float, float]:
            x, y = x - dx, y - dy
            return (c * x - s * y, s * x + c * y)

        px, py = inv(self.position[0], self.position[1])
        lx, ly = inv(*self.look_at)
        return Pinhole(
            self.size,
            (px, py, self.position[2]),
            (lx, ly),
            self.focal_px,
            self.roll_deg - angle_deg,
            self.principal_shift,
            self.dist,
        )


def auto_focal(
    size: tuple[int, int],
    position: tuple[float, float, float],
    look_at: tuple[float, float],
    region_mm: tuple[float, float, float, float],
    fill: float,
    roll_deg: float = 0.0,
    principal_shift: float = 0.0,
) -> float:
    """The focal length (px) at which ``region_mm`` (x0, y0, x1, y1 on the bench) just spans ``fill`` of the
    image in its limiting direction."""
    probe = Pinhole(size, position, look_at, 1000.0, roll_deg, principal_shift)
    x0, y0, x1, y1 = region_mm
    corners = np.array([[x0, y0, 0], [x1, y0, 0], [x1, y1, 0], [x0, y1, 0]], np.float64)
    uv = probe.project(corners)
    k = probe.camera_matrix
    du = np.abs(uv[:, 0] - k[0, 2]).max()
    dv = np.abs(uv[:, 1] - k[1, 2]).max()
    scale = min(fill * size[0] / 2.0 / du, fill * size[1] / 2.0 / dv)
    return 1000.0 * scale


def bench_coordinates_of_pixels(cam: Pinhole) -> tuple[np.ndarray, np.ndarray]:
    """For every raw camera pixel, the bench point (mm, z = 0) it sees: two float32 H×W arrays.

    Pixels whose ray misses the bench plane (looking upward) get a far-away point.
    """
    w, h = cam.size
    u, v = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    pts = np.stack([u, v], axis=-1).reshape(-1, 1, 2)
    k = cam.camera_matrix
    if np.any(np.asarray(cam.dist)):
        norm = cv2.undistortPointsIter(  # type: ignore[call-overload]
            pts,
            k,
            np.asarray(cam.dist),
            None,
            None,
            (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 1e-6),
        ).reshape(-1, 2)
    else:
        norm = np.column_stack([(pts[:, 0, 0] - k[0, 2]) / k[0, 0], (pts[:, 0, 1] - k[1, 2]) / k[1, 1]])
    rays_cam = np.column_stack([norm, np.ones(len(norm))])
    rays = rays_cam @ cam.rotation  # to bench frame (R^T · ray)
    c = np.asarray(cam.position, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = -c[2] / rays[:, 2]
    bad = ~np.isfinite(s) | (s <= 0)
    s[bad] = 1e6
    x = (c[0] + s * rays[:, 0]).reshape(h, w).astype(np.float32)
    y = (c[1] + s * rays[:, 1]).reshape(h, w).astype(np.float32)
    return x, y


def apply_homography(h: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinate arrays through a 3×3 homography (float32 out)."""
    d = h[2, 0] * x + h[2, 1] * y + h[2, 2]
    u = (h[0, 0] * x + h[0, 1] * y + h[0, 2]) / d
    v = (h[1, 0] * x + h[1, 1] * y + h[1, 2]) / d
    return u.astype(np.float32), v.astype(np.float32)


def onto_bench_from(center: np.ndarray, pts3: np.ndarray) -> np.ndarray:
    """Where the rays from a light source at ``center`` through ``pts3`` (N×3) hit the bench (N×2)."""
    c = np.asarray(center, np.float64)
    p = np.asarray(pts3, np.float64).reshape(-1, 3)
    z = np.minimum(p[:, 2], c[2] - 1.0)
    s = c[2] / (c[2] - z)
    return c[:2] + (p[:, :2] - c[:2]) * s[:, None]

"""Printed calibration boards: parse their spec, draw them, find their corners in a camera image.

A board spec is a short string a technician types on the command line:

- ``chessboard:COLSxROWS:SQUARE_MM``: COLS×ROWS *inner* corners (OpenCV's convention),
  e.g. ``chessboard:9x6:25``;
- ``charuco:COLSxROWS:SQUARE_MM:MARKER_MM:DICT``: COLS×ROWS *squares*,
  e.g. ``charuco:5x7:40:20:DICT_6X6_250``.

Board points are in mm in the board's own frame (z = 0), corner ids run row by row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from oss.records import OssError

_SPEC = re.compile(r"^(chessboard|charuco):(\d+)x(\d+):([0-9.]+)(?::([0-9.]+):(\w+))?$")
SUBPIX_CRITERIA = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_COUNT, 40, 0.001)


@dataclass(frozen=True)
class BoardSpec:
    kind: str  # "chessboard" or "charuco"
    cols: int  # chessboard: inner corners across; charuco: squares across
    rows: int
    square_mm: float
    marker_mm: float = 0.0
    dictionary: str = ""

    @classmethod
    def parse(cls, text: str) -> BoardSpec:
        m = _SPEC.match(text.strip())
        if m is None:
            raise OssError(
                f"board '{text}' not understood: write chessboard:COLSxROWS:SQUARE_MM (inner corners, e.g. "
                "chessboard:9x6:25) or charuco:COLSxROWS:SQUARE_MM:MARKER_MM:DICT (squares, e.g. "
                "charuco:5x7:40:20:DICT_6X6_250)"
            )
        kind, cols, rows, sq, mk, dic = m.groups()
        if kind == "charuco" and (mk is None or dic is None):
            raise OssError(
                f"board '{text}': a ChArUco board needs :MARKER_MM:DICT, e.g. charuco:5x7:40:20:DICT_6X6_250"
            )
        if kind == "chessboard" and mk is not None:
            raise OssError(f"board '{text}': a chessboard takes only COLSxROWS:SQUARE_MM")
        spec = cls(kind, int(cols), int(rows), float(sq), float(mk or 0.0), dic or "")
        if spec.cols < 2 or spec.rows < 2 or spec.square_mm <= 0:
            raise OssError(f"board '{text}': needs at least 2x2 corners/squares and a positive square size")
        if kind == "charuco":
            if not hasattr(cv2.aruco, spec.dictionary):
                raise OssError(
                    f"board '{text}': unknown ArUco dictionary '{spec.dictionary}' (e.g. DICT_6X6_250)"
                )
            if not 0 < spec.marker_mm < spec.square_mm:
                raise OssError(f"board '{text}': the marker must be smaller than the square")
        return spec

    def __str__(self) -> str:
        s = f"{self.kind}:{self.cols}x{self.rows}:{self.square_mm:g}"
        return s + (f":{self.marker_mm:g}:{self.dictionary}" if self.kind == "charuco" else "")

    @property
    def inner(self) -> tuple[int, int]:
        """Inner corners (across, down)."""
        return (self.cols, self.rows) if self.kind == "chessboard" else (self.cols - 1, self.rows - 1)

    @property
    def corner_count(self) -> int:
        return self.inner[0] * self.inner[1]

    def object_points(self) -> np.ndarray:
        """All inner corners in board mm (N×3, z = 0), row by row: id i is at (i % nx, i // nx) squares."""
        if self.kind == "charuco":
            return np.asarray(self.charuco_board().getChessboardCorners(), np.float64).reshape(-1, 3)
        nx, ny = self.inner
        g = np.mgrid[0:nx, 0:ny].T.reshape(-1, 2).astype(np.float64) * self.square_mm
        return np.column_stack([g, np.zeros(len(g))])

    @property
    def drawing_offset_mm(self) -> float:
        """Where board mm (0, 0) of ``object_points`` lies in ``draw``'s image, from its top-left (mm)."""
        return self.square_mm if self.kind == "chessboard" else 0.0

    @property
    def extent_mm(self) -> tuple[float, float]:
        """Printed size of the board pattern (width, height) in mm."""
        nx, ny = self.inner
        return ((nx + 1) * self.square_mm, (ny + 1) * self.square_mm)

    def charuco_board(self) -> cv2.aruco.CharucoBoard:
        d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, self.dictionary))
        return cv2.aruco.CharucoBoard((self.cols, self.rows), self.square_mm, self.marker_mm, d)

    def draw(self, px_per_mm: float, margin_mm: float = 0.0) -> np.ndarray:
        """The board as a grey image (uint8) at ``px_per_mm``; board mm (0, 0) at (margin, margin)."""
        m = round(margin_mm * px_per_mm)
        if self.kind == "charuco":
            size = (
                round(self.cols * self.square_mm * px_per_mm),
                round(self.rows * self.square_mm * px_per_mm),
            )
            img = self.charuco_board().generateImage(size, marginSize=0, borderBits=1)
        else:
            sq = self.square_mm * px_per_mm
            nx, ny = self.cols + 1, self.rows + 1
            h, w = round(ny * sq), round(nx * sq)
            v, u = np.mgrid[0:h, 0:w]
            img = np.where(((u // sq).astype(int) + (v // sq).astype(int)) % 2 == 0, 0, 255).astype(np.uint8)
            img = img.copy()
        return cv2.copyMakeBorder(img, m, m, m, m, cv2.BORDER_CONSTANT, value=(255,))


@dataclass(frozen=True, eq=False)
class BoardView:
    """The board corners found in one image: ``ids`` index ``BoardSpec.object_points()``."""

    ids: np.ndarray  # int N
    image_px: np.ndarray  # float N×2, raw camera px

    @property
    def count(self) -> int:
        return len(self.ids)


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def find_board(image: np.ndarray, spec: BoardSpec, min_corners: int = 6) -> BoardView | None:
    """The board's corners in ``image`` (refined to sub-pixel), or None where the board is not seen."""
    grey = _grey(image)
    if spec.kind == "chessboard":
        return _find_chessboard(grey, spec)
    return _find_charuco(grey, spec, min_corners)


def _find_chessboard(grey: np.ndarray, spec: BoardSpec) -> BoardView | None:
    flags = cv2.CALIB_CB_ADAPTIVE_THRESH | cv2.CALIB_CB_NORMALIZE_IMAGE
    ok, corners = cv2.findChessboardCorners(grey, spec.inner, flags=flags)
    if not ok:
        ok, corners = cv2.findChessboardCornersSB(grey, spec.inner, flags=cv2.CALIB_CB_EXHAUSTIVE)
        if not ok:
            return None
    else:
        corners = cv2.cornerSubPix(grey, corners, (11, 11), (-1, -1), SUBPIX_CRITERIA)
    pts = corners.reshape(-1, 2).astype(np.float64)
    # OpenCV may return the grid starting from either end; keep the first corner nearer the image top-left
    # so ids mean the same corner across views where the board is not turned upside down.
    if pts[0].sum() > pts[-1].sum():
        pts = pts[::-1].copy()
    return BoardView(np.arange(len(pts)), pts)


def _find_charuco(grey: np.ndarray, spec: BoardSpec, min_corners: int) -> BoardView | None:
    board = spec.charuco_board()
    params = cv2.aruco.CharucoParameters()
    det_params = cv2.aruco.DetectorParameters()
    det_params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.CharucoDetector(board, params, det_params)
    corners, ids, _, _ = detector.detectBoard(grey)
    if ids is None or len(ids) < min_corners:
        return None
    pts = cv2.cornerSubPix(grey, corners.astype(np.float32), (5, 5), (-1, -1), SUBPIX_CRITERIA)
    return BoardView(ids.ravel().astype(int), pts.reshape(-1, 2).astype(np.float64))

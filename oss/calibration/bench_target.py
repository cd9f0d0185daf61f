"""The bench frame: ArUco markers glued to the bench at measured places define bench mm.

Each marker is printed with its top edge away from the operator (toward bench +y) unless ``angle_deg``
says otherwise; its position is its centre in bench mm. The layout is a small YAML file::

    dictionary: DICT_4X4_50
    markers:                       # id: [x_mm, y_mm, size_mm] or [x_mm, y_mm, size_mm, angle_deg]
      40: [70, 70, 50]
      41: [1130, 70, 50]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml

from oss.records import OssError


def _mm(x: object) -> float:
    """A finite number of mm (or degrees) within 100 m."""
    v = float(x)  # type: ignore[arg-type]
    if not math.isfinite(v) or abs(v) > 100_000:
        raise ValueError(f"{x!r} is not a number of mm")
    return v


@dataclass(frozen=True)
class BenchMarker:
    id: int
    x_mm: float
    y_mm: float
    size_mm: float
    angle_deg: float = 0.0

    def corners_mm(self) -> np.ndarray:
        """The 4 corners (4×2 bench mm) in ArUco's order: top-left, top-right, bottom-right, bottom-left
        of the printed marker (its top toward bench +y at angle 0)."""
        h = self.size_mm / 2
        local = np.array([[-h, h], [h, h], [h, -h], [-h, -h]])
        a = math.radians(self.angle_deg)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        return local @ rot.T + np.array([self.x_mm, self.y_mm])


@dataclass(frozen=True)
class BenchTarget:
    dictionary: str
    markers: tuple[BenchMarker, ...]

    def __post_init__(self) -> None:
        if not hasattr(cv2.aruco, self.dictionary):
            raise OssError(f"bench markers: unknown ArUco dictionary '{self.dictionary}' (e.g. DICT_4X4_50)")
        if len(self.markers) < 2:
            raise OssError("bench markers: lay at least 2 markers (better 4 or more, spread over the bench)")
        if len({m.id for m in self.markers}) != len(self.markers):
            raise OssError("bench markers: each marker id may appear only once")

    @property
    def by_id(self) -> dict[int, BenchMarker]:
        return {m.id: m for m in self.markers}

    @classmethod
    def load(cls, path: str | Path) -> BenchTarget:
        from yaml.constructor import SafeConstructor

        from oss.instructions.yamlnodes import compose_file, shorten

        path = Path(path)
        root = compose_file(path, "bench marker layout")  # size, depth and tags checked: FileProblems
        try:
            doc = SafeConstructor().construct_document(root)
            marks = tuple(BenchMarker(int(k), *(_mm(x) for x in v)) for k, v in dict(doc["markers"]).items())
            if len(marks) > 1000 or any(not 0 <= m.id < 100_000 for m in marks):
                raise ValueError("marker ids from 0, at most 1000 markers")
            return cls(str(doc.get("dictionary", "DICT_4X4_50")), marks)
        except (KeyError, TypeError, ValueError, OverflowError, AttributeError, yaml.YAMLError) as e:
            raise OssError(
                f"{path}: bench marker layout not understood ({shorten(repr(e), 200)}); write 'dictionary: "
                "DICT_4X4_50' and 'markers:' with lines 'ID: [x_mm, y_mm, size_mm]'"
            ) from e

    def to_doc(self) -> dict[str, object]:
        return {
            "dictionary": self.dictionary,
            "markers": {
                m.id: [m.x_mm, m.y_mm, m.size_mm] + ([m.angle_deg] if m.angle_deg else [])
                for m in self.markers
            },
        }


def default_target(bench_size_mm: tuple[float, float], size_mm: float = 50.0) -> BenchTarget:
    """Five markers for the standard OSS bench: the front corners and middle, two further back."""
    w, d = bench_size_mm
    pos = [(70, 70), (w / 2, 60), (w - 70, 70), (w * 0.21, d * 0.665), (w * 0.79, d * 0.665)]
    return BenchTarget(
        "DICT_4X4_50", tuple(BenchMarker(40 + i, x, y, size_mm) for i, (x, y) in enumerate(pos))
    )


class MarkerFinder:
    """Finds the bench markers of a target in camera frames (one detector, made once)."""

    def __init__(self, target: BenchTarget):
        self.target = target
        params = cv2.aruco.DetectorParameters()
        params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
        d = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, target.dictionary))
        self.detector = cv2.aruco.ArucoDetector(d, params)
        self._ids = set(target.by_id)

    def find(self, image: np.ndarray) -> dict[int, np.ndarray]:
        """Marker id → its 4 corners in raw camera px (4×2), for the target's markers seen in ``image``."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        corners, ids, _ = self.detector.detectMarkers(grey)
        out: dict[int, np.ndarray] = {}
        if ids is None:
            return out
        for c, i in zip(corners, ids.ravel(), strict=True):
            if int(i) in self._ids and int(i) not in out:
                out[int(i)] = c.reshape(4, 2).astype(np.float64)
        return out

    def correspondences(self, found: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray, list[int]]:
        """(bench mm M×2, camera px M×2, marker id per point) of the found markers' corners."""
        by_id = self.target.by_id
        ids = sorted(found)
        if not ids:
            return np.zeros((0, 2)), np.zeros((0, 2)), []
        mm = np.concatenate([by_id[i].corners_mm() for i in ids])
        px = np.concatenate([found[i] for i in ids])
        return mm, px, [i for i in ids for _ in range(4)]

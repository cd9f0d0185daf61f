"""Build ``oss/perception/models/hand_landmarker.task`` from the hand models of the mediapipe 0.10.21 wheel.

MediaPipe's Tasks ``HandLandmarker`` reads a ``.task`` bundle: an uncompressed zip holding
``hand_detector.tflite`` (the palm detector) and ``hand_landmarks_detector.tflite``. mediapipe 0.10.21 is
the last release that ships the two models inside the package (``palm_detection_full.tflite`` and
``hand_landmark_full.tflite``; the lite palm model lacks the metadata the Tasks API needs). This tool
zips them once into the bundle OSS ships as package data, so OSS can use a current mediapipe and never
downloads a model. Run it only to rebuild the bundle (the output is byte-for-byte reproducible)::

    python tools/build_hand_model.py                       # pip downloads the 0.10.21 wheel (no install)
    python tools/build_hand_model.py --wheel mediapipe-0.10.21-cp311-cp311-manylinux_2_28_x86_64.whl

Each member's data starts on a 64-byte boundary (like Android's zipalign), so TFLite can use the buffer
in place instead of copying it. The mediapipe licence (Apache-2.0) is written next to the bundle.
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "oss" / "perception" / "models"
VERSION = "0.10.21"
MEMBERS = {  # name in the bundle -> path in the mediapipe 0.10.21 wheel
    "hand_detector.tflite": "mediapipe/modules/palm_detection/palm_detection_full.tflite",
    "hand_landmarks_detector.tflite": "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
}
LICENSE_MEMBER = f"mediapipe-{VERSION}.dist-info/LICENSE"
ALIGN = 64
_ALIGN_EXTRA_ID = 0xD935  # the extra-field id Android's zipalign uses for padding
_LOCAL_HEADER = 30  # bytes of a zip local file header before the name


def download_wheel(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.11", "--platform", "manylinux_2_28_x86_64", "--dest", str(dest),
           f"mediapipe=={VERSION}"]  # fmt: skip
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob(f"mediapipe-{VERSION}-*.whl"))
    if not wheels:
        raise SystemExit(f"pip downloaded no mediapipe {VERSION} wheel into {dest}")
    return wheels[0]


def aligned_bundle(models: dict[str, bytes]) -> bytes:
    """The uncompressed zip the Tasks API reads, each member's data aligned to ``ALIGN`` bytes."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in models.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            start = buf.tell() + _LOCAL_HEADER + len(name.encode()) + 4  # after an empty padding field
            pad = (-start) % ALIGN
            info.extra = struct.pack("<HH", _ALIGN_EXTRA_ID, pad) + b"\0" * pad
            z.writestr(info, data)
    return buf.getvalue()


def check_alignment(bundle: bytes) -> None:
    import io

    with zipfile.ZipFile(io.BytesIO(bundle)) as z:
        for info in z.infolist():
            name_len, extra_len = struct.unpack_from("<HH", bundle, info.header_offset + 26)
            start = info.header_offset + _LOCAL_HEADER + name_len + extra_len
            assert start % ALIGN == 0, (info.filename, start)
            assert bundle[start : start + info.file_size] == z.read(info.filename)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--wheel", type=Path, help=f"a mediapipe {VERSION} wheel (default: pip downloads one)")
    ap.add_argument("--out", type=Path, default=OUT_DIR, help="folder for the bundle and its licence")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        with zipfile.ZipFile(wheel) as w:
            models = {name: w.read(src) for name, src in MEMBERS.items()}
            licence = w.read(LICENSE_MEMBER)
    bundle = aligned_bundle(models)
    check_alignment(bundle)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "hand_landmarker.task").write_bytes(bundle)
    (args.out / "LICENSE").write_bytes(licence)
    (args.out / "NOTICE").write_text(notice(models, bundle, wheel.name))
    print(
        f"{args.out / 'hand_landmarker.task'}: {len(bundle)} bytes, sha256 {hashlib.sha256(bundle).hexdigest()}"
    )
    return 0


def notice(models: dict[str, bytes], bundle: bytes, wheel: str) -> str:
    lines = [
        "hand_landmarker.task: MediaPipe's hand landmark models, unchanged, zipped into the bundle MediaPipe's",
        "Tasks HandLandmarker reads (built by tools/build_hand_model.py).",
        "",
        f"Source: {wheel} (PyPI), by Google LLC, https://github.com/google-ai-edge/mediapipe",
        "Licence: Apache License 2.0, see LICENSE in this folder (the licence file of that wheel).",
        "",
        f"hand_landmarker.task  {len(bundle)} bytes  sha256 {hashlib.sha256(bundle).hexdigest()}",
    ]
    for name, data in models.items():
        lines.append(f"  {name}  =  {MEMBERS[name]}")
        lines.append(f"    {len(data)} bytes  sha256 {hashlib.sha256(data).hexdigest()}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())

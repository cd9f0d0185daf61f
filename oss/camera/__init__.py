"""Frame sources: OpenCV cameras, video files, image folders (the virtual bench lives in ``oss.sim``)."""

from oss.camera.base import CameraError, FrameSource
from oss.camera.opencv_source import FileSource, FolderSource, OpenCVCameraSource, open_source

__all__ = ["CameraError", "FileSource", "FolderSource", "FrameSource", "OpenCVCameraSource", "open_source"]

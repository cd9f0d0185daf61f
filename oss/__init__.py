"""OSS: a projector-based operator support system."""

import os as _os

# The station's numerical work is small matrices (7×7 solves, 10 000 × 7 products) on every camera
# frame. A multi-threaded BLAS wakes its threads for each of them, and on a 2-core station busy with the
# camera, OpenCV and MediaPipe, that wake-up took longer than the work (a 7×7 solve 1.6 ms instead of
# a few µs). One BLAS thread, unless the environment says otherwise; it must be set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")


def _keep_freed_buffers() -> None:
    """Every frame makes many short-lived image-sized arrays (a 600×350×3 float32 is 2.5 MB). glibc serves
    blocks that large with a fresh mmap and gives them back on free, so each one is page-faulted in anew:
    on the 2-core station that was more than half the time of the foreground stage (22 ms → 9 ms for
    ``_outside`` on a busy machine). Serve them from the heap and keep freed memory for reuse instead. The
    environment's ``MALLOC_MMAP_THRESHOLD_`` wins; elsewhere than glibc this does nothing."""
    if "MALLOC_MMAP_THRESHOLD_" in _os.environ:
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3
    mallopt(m_mmap_threshold, 32 * 1024 * 1024)  # glibc's maximum: blocks up to 32 MB from the heap
    mallopt(m_trim_threshold, 256 * 1024 * 1024)  # keep up to 256 MB of freed heap for reuse


_keep_freed_buffers()

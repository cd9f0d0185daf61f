"""OSS: a projector-based operator support system."""

import os as _os

# The station's numerical work is small matrices (7×7 solves, 10 000 × 7 products) on every camera
# frame. A multi-threaded BLAS wakes its threads for each of them, and on a 2-core station busy with the
# camera, OpenCV and MediaPipe, that wake-up took longer than the work (a 7×7 solve 1.6 ms instead of
# a few µs). One BLAS thread, unless the environment says otherwise; it must be set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    _os.environ.setdefault(_var, "1")

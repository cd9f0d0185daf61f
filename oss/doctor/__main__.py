"""``python -m oss.doctor``: the same as ``oss doctor``, importing only what the checks need."""

import sys

from oss.doctor.command import main

if __name__ == "__main__":
    sys.exit(main())

"""``python -m oss``: the same as the ``oss`` command."""

import sys

from oss.cli import main

if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Run an OSS station: the same as ``oss run``. With no arguments, the LED fixture on the virtual bench."""

import sys

from oss.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))

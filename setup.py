"""Which packages the wheel holds; everything else is in pyproject.toml.

Every folder under ``oss/`` is a package (data folders such as ``oss/sim/scenarios`` too, as setuptools
wants), and the top-level ``instructions/`` folder (the sample instruction and its pictograms) ships as
the subpackage ``oss.samples``, so the repository keeps its layout and an installed OSS finds the
samples with ``importlib.resources`` (see ``oss/package_data.py``). pyproject.toml cannot express this
mapping next to automatic discovery, hence this file.
"""

from setuptools import find_namespace_packages, setup

SKIP = ["*__pycache__", "*__pycache__.*"]
packages = find_namespace_packages(include=["oss", "oss.*"], exclude=SKIP)
samples = [
    "oss.samples",
    *(f"oss.samples.{p}" for p in find_namespace_packages("instructions", exclude=SKIP)),
]

setup(packages=packages + samples, package_dir={"oss.samples": "instructions"})

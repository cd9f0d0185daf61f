"""Sample instructions and their media; installed as the package ``oss.samples`` (see oss/package_data.py)."""

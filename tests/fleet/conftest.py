"""PostgreSQL for the fleet tests: the server CI starts (OSS_TEST_PG_DSN), a fresh database per test,
and a private cluster for the tests that stop and restart the server.

Without OSS_TEST_PG_DSN the tests are skipped on a workstation and fail in CI (CI=true), where
``.ci/run`` must have started PostgreSQL.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.fleet.cluster import LocalCluster, server_bindir


def _missing(what: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"{what} in CI: .ci/run must install and start PostgreSQL (. .ci/postgres.sh; start_postgres)"
        )
    pytest.skip(f"{what}: set OSS_TEST_PG_DSN (. .ci/postgres.sh; start_postgres) to run the fleet tests")


@pytest.fixture(scope="session")
def pg_dsn() -> str:
    """The DSN of the test server (a maintenance database such as ``postgres``)."""
    dsn = os.environ.get("OSS_TEST_PG_DSN", "")
    if not dsn:
        _missing("OSS_TEST_PG_DSN is not set")
    return dsn


def _with_db(dsn: str, name: str) -> str:
    from psycopg.conninfo import make_conninfo

    return make_conninfo(dsn, dbname=name)


@pytest.fixture
def fleet_db(pg_dsn: str) -> Iterator[str]:
    """A new, empty database for one test (dropped afterwards); yields its DSN."""
    import psycopg

    name = f"oss_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_dsn, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _with_db(pg_dsn, name)
    finally:
        with psycopg.connect(pg_dsn, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def local_cluster(pg_dsn: str) -> Iterator[LocalCluster]:
    """A private PostgreSQL cluster (own data folder and port) that a test may stop and start."""
    bindir = server_bindir()
    if bindir is None:
        _missing("PostgreSQL server programs (initdb, pg_ctl) not found")
    assert bindir is not None
    cluster = LocalCluster(bindir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()

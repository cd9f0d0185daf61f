"""The station's event log (SQLite) and its records; see ``oss.log.store``."""

from oss.log.rows import ResumePoint, SessionInfo, StoredEvent
from oss.log.schema import SCHEMA_VERSION
from oss.log.store import EventStore, LogError, LogStorageError, utc_now

__all__ = [
    "SCHEMA_VERSION",
    "EventStore",
    "LogError",
    "LogStorageError",
    "ResumePoint",
    "SessionInfo",
    "StoredEvent",
    "utc_now",
]

"""Column types shared by the tables: the one way a moment in time is stored."""

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """A moment in time, stored in UTC and read back as an aware UTC datetime, on SQLite and PostgreSQL.

    Writing a naive datetime raises ValueError: nothing says which zone it meant. PostgreSQL keeps the
    instant in a `timestamptz` column; SQLite has no time-zone type and keeps UTC wall-clock text, so
    converting to UTC before writing is what makes an aware value with another offset read back right
    and what keeps range comparisons between stored values correct.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.utcoffset() is None:
            raise ValueError(f"{value!r} has no time zone; the database stores aware datetimes only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite returns the UTC wall clock without a zone; PostgreSQL returns the session's zone.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

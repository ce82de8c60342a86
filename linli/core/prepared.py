"""Statements that run on every request, prepared once per database connection (PostgreSQL).

Django's PostgreSQL backend binds parameters on the client (psycopg's ``ClientCursor``): PostgreSQL
parses and plans each statement anew. For the few raw statements of a hot path (the Open311
intake's snapping ``SELECT`` and its event ``INSERT``) ``execute`` runs them with server-side
binding and ``prepare=True``: the connection parses and plans each once and then only executes it.

- psycopg prepares nothing on a connection whose ``prepare_threshold`` is ``None`` — Django's
  default, and it ignores ``prepare=True`` then without a word. ``settings.py`` sets a threshold
  (``LINLI_DB_PREPARE``, on by default): Django's own queries (client-side binding) are never
  prepared whatever it is, so only the statements run through here are
  (``tests/core/test_prepared.py`` checks ``pg_prepared_statements``).
- Errors are Django's (``IntegrityError`` …), as through ``connection.cursor()``.
- Other databases (SQLite) run the statement through Django's cursor unchanged.
- The statement must use ``%s`` placeholders with values psycopg can adapt on its own (numbers,
  strings, datetimes, ``None``; JSON as a string with ``::jsonb``).
- A connection pooler in transaction mode must keep prepared statements per server connection
  (PgBouncer ≥ 1.21 with ``max_prepared_statements``; docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def execute(sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    """Run ``sql`` with ``params`` and return every row (none for a statement without rows)."""
    if connection.vendor != "postgresql":
        with connection.cursor() as cur:
            cur.execute(sql, params)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
    import psycopg

    connection.ensure_connection()
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cur:
        cur.execute(sql, params, prepare=True)
        return cur.fetchall() if cur.description else []

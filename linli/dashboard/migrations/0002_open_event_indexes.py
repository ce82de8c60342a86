"""Two partial indexes on governance's events for the command centre's live part, on PostgreSQL
(docs/dashboard.md "The roll-up"): only open events are in them (tens of thousands of ten million),
so the open summary (from the index alone: it carries every column the GROUP BY reads, ``id``
included) and the overdue list read a small index instead of the table.

They are the dashboard's (no governance code reads them) and are created here, not in
``governance.models.Event.Meta.indexes``, because they are PostgreSQL-only (``varchar_pattern_ops``
for the path prefix of a street or community scope); SQLite answers from ``event_dash_open`` and
``event_step_due``. The open steps are ``loop.OPEN_STEPS`` sorted, as ``dashboard.queries.OPEN``.
"""

from typing import Any

from django.db import migrations

_STEPS = ("collected", "dispatched", "handling", "registered", "reported")
# Written as PostgreSQL prints it back (pg_get_indexdef), so a pg_dump/restore recreates the very same
# definition (tests/deploy/test_backup.py compares them); the planner proves `step IN (...)` against it.
OPEN = "((step)::text = ANY (ARRAY[" + ", ".join(f"('{s}'::character varying)::text" for s in _STEPS) + "]))"

CREATE = [
    "CREATE INDEX IF NOT EXISTS dash_event_open ON governance_event (path varchar_pattern_ops, step, "
    f"category_id, grid_id, department_id, step_due_at, backlog, deferred_until) INCLUDE (id) WHERE {OPEN}",
    "CREATE INDEX IF NOT EXISTS dash_event_overdue ON governance_event (step_due_at, id) "
    f"WHERE {OPEN} AND NOT backlog",
]
DROP = ["DROP INDEX IF EXISTS dash_event_open", "DROP INDEX IF EXISTS dash_event_overdue"]


def _run(statements: list[str]) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for sql in statements:
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("dashboard", "0001_initial"),
        ("governance", "0001_initial"),
    ]

    operations = [migrations.RunPython(_run(CREATE), _run(DROP))]

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

OPEN = "('collected', 'dispatched', 'handling', 'registered', 'reported')"

CREATE = [
    "CREATE INDEX IF NOT EXISTS dash_event_open ON governance_event (path varchar_pattern_ops, step, "
    f"category_id, grid_id, department_id, step_due_at, backlog, deferred_until) INCLUDE (id) WHERE step IN {OPEN}",
    "CREATE INDEX IF NOT EXISTS dash_event_overdue ON governance_event (step_due_at, id) "
    f"WHERE step IN {OPEN} AND NOT backlog",
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

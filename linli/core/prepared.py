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

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


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


#: Per (model, condition): the SELECT of every concrete column, and per column the converters Django's
#: compiler would apply to its value (JSON text to Python, …).
_FIRST: dict[tuple[str, type[Model], str], tuple[str, list[str], list[list[tuple[Callable[..., Any], Any]]]]] = {}


def first(model: type[M], where: str, params: Sequence[Any]) -> M | None:
    """The first row of ``model``'s table matching ``where`` (raw SQL over its columns, ``%s``
    placeholders; no order), as an instance loaded as the ORM loads one (``Model.from_db``, every
    field's converters): ``Model.objects.filter(…).first()`` for a hot path, without compiling
    the query on every call. On PostgreSQL the statement is prepared."""
    key = (connection.vendor, model, where)
    if key not in _FIRST:
        qn = connection.ops.quote_name
        fields = list(model._meta.concrete_fields)
        table = qn(model._meta.db_table)
        sql = f"SELECT {', '.join(f'{table}.{qn(f.column)}' for f in fields)} FROM {table} WHERE {where} LIMIT 1"  # noqa: S608
        converters = []
        for f in fields:
            col = f.get_col(model._meta.db_table)
            convs = [*connection.ops.get_db_converters(col), *col.get_db_converters(connection)]
            converters.append([(conv, col) for conv in convs])
        _FIRST[key] = (sql, [f.attname for f in fields], converters)
    sql, names, converters = _FIRST[key]
    rows = execute(sql, params)
    if not rows:
        return None
    values = list(rows[0])
    for i, convs in enumerate(converters):
        for conv, col in convs:
            values[i] = conv(values[i], col, connection)
    return model.from_db(connection.alias, names, values)


#: Per model: the attribute names of its concrete fields in the order ``Model.__init__`` takes
#: positional values, and per field its default: ``(True, maker)`` for one made anew for each
#: instance (a callable default, a database default), ``(False, value)`` for one Django gives as
#: the same value every time (a plain default, ``None``, ``""``).
_SPECS: dict[type[Model], tuple[tuple[str, ...], frozenset[str], list[tuple[bool, Any]]]] = {}


def _spec(model: type[Model]) -> tuple[tuple[str, ...], frozenset[str], list[tuple[bool, Any]]]:
    from django.db.models.fields import NOT_PROVIDED

    fields = list(model._meta.concrete_fields)
    defaults: list[tuple[bool, Any]] = []
    for f in fields:
        if f.has_default():
            defaults.append((True, f.default) if callable(f.default) else (False, f.default))
        elif f.db_default is not NOT_PROVIDED:
            defaults.append((True, f.get_default))
        else:
            defaults.append((False, f.get_default()))
    names = tuple(f.attname for f in fields)
    return names, frozenset(names), defaults


def build(model: type[M], values: dict[str, Any], related: dict[str, Model] | None = None) -> M:
    """A new, unsaved ``model`` instance: ``model(**values)`` for a hot path, where ``values`` are
    keyed by attribute name (``category_id``, not ``category``) and ``related`` gives the objects of
    foreign keys already in hand (cached on the instance, as passing them by name would).

    Django's keyword path looks up every field and sets foreign keys through their descriptors
    (~35 µs for Event's 46 fields); positional values take its fast path (~20 µs). Every field not
    in ``values`` gets its default exactly as ``Model.__init__`` gives it (``Field.get_default``: a
    callable default is called for each instance). An unknown name raises ``TypeError``."""
    spec = _SPECS.get(model)
    if spec is None:
        spec = _SPECS[model] = _spec(model)
    names, known, defaults = spec
    if not known.issuperset(values):
        raise TypeError(f"{model.__name__} has no field(s) {', '.join(sorted(set(values) - known))}")
    args = [
        values[name] if name in values else (default() if made else default)
        for name, (made, default) in zip(names, defaults, strict=True)
    ]
    instance = model(*args)
    for name, obj in (related or {}).items():
        model._meta.get_field(name).set_cached_value(instance, obj)  # type: ignore[union-attr]
    return instance

"""The house rules, checked by a machine (docs/architecture.md, "The house rules").

Every app has the same rooms; a room is ``room.py`` or ``room/<topic>.py``; queries only read and
views and the API only call services to write; an app writes another app's tables only through that
app's services; the import layers and the pure modules hold (import-linter, ``pyproject.toml``);
shared helpers exist once. A new app that breaks one of these fails the suite with the file and
line to fix.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINLI = ROOT / "linli"

#: The product apps. ``core`` is plumbing and ``demo`` only generates and loads data: neither has rooms.
APPS = (
    "accounts",
    "runs",
    "notify",
    "places",
    "renewal",
    "consult",
    "governance",
    "open311",
    "dashboard",
    "workbench",
    "sensing",
    "jobs",
)

#: The rooms every product app has, each a module ``<room>.py`` or a package ``<room>/<topic>.py``.
ROOMS = ("models", "admin", "services", "queries", "permissions", "views", "urls")
#: Rooms an app has when it has that surface (a REST API). They follow the same naming rule.
OPTIONAL_ROOMS = ("api", "panels")

#: Apps without tables of their own skip the two rooms that only tables need (say why).
NO_TABLES: dict[str, str] = {
    "workbench": "reads other apps' data through their queries and the permission check; stores nothing",
}

#: Calls that write to the database.
WRITES = {"save", "delete", "create", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}


def _py_files(where: Path) -> Iterator[Path]:
    for path in sorted(where.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path


def _app_of(path: Path) -> str | None:
    rel = path.relative_to(LINLI).parts
    return rel[0] if len(rel) > 1 else None


def _room_modules(app: str, room: str) -> list[Path]:
    base = LINLI / app
    if (base / f"{room}.py").exists():
        return [base / f"{room}.py"]
    if (base / room).is_dir():
        return sorted((base / room).glob("*.py"))
    return []


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


# --- layers and pure modules ---------------------------------------------------------------------


def test_import_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml: layers, places.models below accounts, pure modules."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--no-cache", "--no-logo"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


# --- rooms ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("app", APPS)
def test_every_app_has_the_agreed_rooms(app: str) -> None:
    base = LINLI / app
    assert (base / "apps.py").exists(), f"linli/{app}/apps.py is missing"
    rooms = [r for r in ROOMS if not (app in NO_TABLES and r in ("models", "admin"))]
    missing = [room for room in rooms if not _room_modules(app, room)]
    assert not missing, f"linli/{app} lacks the rooms {missing} (a room is {app}/<room>.py or {app}/<room>/<topic>.py)"
    assert (base / "templates" / app).is_dir() or app == "open311", f"linli/{app}/templates/{app}/ is missing"


@pytest.mark.parametrize("app", APPS)
def test_a_room_is_a_module_or_a_package_never_room_underscore_topic(app: str) -> None:
    flat = [
        p.name
        for p in (LINLI / app).glob("*.py")
        for room in (*ROOMS, *OPTIONAL_ROOMS)
        if p.stem.startswith(f"{room}_") or p.stem == f"{room}s"
    ]
    assert not flat, f"linli/{app}: {flat} — make the room a package: {app}/<room>/<topic>.py"
    both = [r for r in (*ROOMS, *OPTIONAL_ROOMS) if (LINLI / app / f"{r}.py").exists() and (LINLI / app / r).is_dir()]
    assert not both, f"linli/{app}: {both} is both a module and a package"


def test_no_demo_code_in_product_apps() -> None:
    """Demo generators and loaders live in linli/demo (which depends on the apps, never the reverse)."""
    stray = [
        _rel(p) for app in APPS for p in (LINLI / app).rglob("*.py") if "demo" in p.stem and "migrations" not in p.parts
    ]
    assert not stray, f"demo code outside linli/demo: {stray}"


def test_room_packages_list_their_topics_statically() -> None:
    """No importlib in the house: what a package holds is written down, and a missing topic is an
    ImportError at start-up, not a silently absent page."""
    dynamic = [
        f"{_rel(p)}:{n}"
        for p in _py_files(LINLI)
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"\bimportlib\b|\bimport_module\(|__import__\(", line)
    ]
    assert not dynamic, f"dynamic imports: {dynamic}"


# --- who writes ----------------------------------------------------------------------------------


def _calls(tree: ast.AST) -> Iterator[ast.Call]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            yield node


def _chain_root(node: ast.expr) -> str | None:
    """The name at the root of ``A.objects.filter(...).update`` (A), or None."""
    while True:
        if isinstance(node, ast.Attribute):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Name):
            return node.id
        else:
            return None


def _is_write(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute):
        return False
    if func.attr in WRITES:
        return True
    # QuerySet.update(); a dict's update() has no manager or filter before it.
    return (
        func.attr == "update"
        and re.search(r"\.objects\b|\.filter\(|\.exclude\(|_set\b", ast.unparse(func.value)) is not None
    )


def _writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    return [f"{_rel(path)}:{c.lineno}: {ast.unparse(c.func)[:80]}" for c in _calls(tree) if _is_write(c)]


@pytest.mark.parametrize("app", APPS)
def test_queries_views_and_api_do_not_write(app: str) -> None:
    """Services write; queries read; views and the API parse, call a service or a query, and render."""
    found: list[str] = []
    for room in ("queries", "views", "api", "panels"):
        for path in _room_modules(app, room):
            found += _writes_in(path)
    assert not found, "writes outside services (call the app's services instead):\n" + "\n".join(found)


def _foreign_models(tree: ast.Module, app: str) -> dict[str, str]:
    """Names this module imported from another app's models: {name: app}."""
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            m = re.fullmatch(r"linli\.(\w+)\.models", node.module)
            if m and m.group(1) != app:
                for alias in node.names:
                    names[alias.asname or alias.name] = m.group(1)
            m = re.fullmatch(r"linli\.(\w+)", node.module)
            if m and m.group(1) != app:
                for alias in node.names:
                    if alias.name == "models":
                        names[alias.asname or alias.name] = m.group(1)
    return names


def test_no_app_writes_another_apps_tables() -> None:
    """An app creates, changes or deletes another app's rows only by calling that app's services."""
    found: list[str] = []
    for app in APPS:
        for path in _py_files(LINLI / app):
            tree = ast.parse(path.read_text(), str(path))
            foreign = _foreign_models(tree, app)
            if not foreign:
                continue
            for call in _calls(tree):
                root = _chain_root(call.func)
                if root not in foreign:
                    continue
                constructs = isinstance(call.func, ast.Name) and call.func.id[:1].isupper()
                if _is_write(call) or constructs:
                    found.append(f"{_rel(path)}:{call.lineno}: {ast.unparse(call)[:90]} (owned by {foreign[root]})")
    assert not found, "cross-app writes (call the owning app's services):\n" + "\n".join(found)


# --- one of each ---------------------------------------------------------------------------------


def _grep(pattern: str, where: Path = LINLI, allowed: tuple[str, ...] = ()) -> list[str]:
    hits = []
    for path in _py_files(where):
        rel = _rel(path)
        if rel in allowed:
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(pattern, line):
                hits.append(f"{rel}:{n}: {line.strip()[:100]}")
    return hits


def test_one_english_check() -> None:
    """Only core.lang decides whether a screen is English (``is_english()``, ``pick()``, ``code()``)."""
    hits = _grep(r"""startswith\(["']en["']\)""", allowed=("linli/core/lang.py", "linli/core/errors.py"))
    assert not hits, "use linli.core.lang:\n" + "\n".join(hits)


def test_one_distance_function() -> None:
    hits = _grep(r"def (metres|haversine|distance_m|_metres)\(", allowed=("linli/core/geo.py",))
    assert not hits, "use linli.core.geo.metres:\n" + "\n".join(hits)


def test_no_private_wrappers_around_linli_error() -> None:
    """``LinliError.one(code, zh, en, status)`` is the one way to refuse with a single problem."""
    found = []
    for path in _py_files(LINLI):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and len(node.body) == 1 and isinstance(node.body[0], ast.Return):
                value = node.body[0].value
                if isinstance(value, ast.Call) and ast.unparse(value.func) == "LinliError.one":
                    params = [a.arg for a in node.args.args]
                    passed = [a.id for a in value.args if isinstance(a, ast.Name)]
                    if params and passed[: len(params)] == params[: len(passed)] and len(passed) >= 3:
                        found.append(f"{_rel(path)}:{node.lineno}: {node.name}()")
    assert not found, "call LinliError.one directly:\n" + "\n".join(found)


def test_user_is_typed() -> None:
    """The user asking is ``linli.core.types.User`` (or accounts' own model), never ``Any``."""
    hits = _grep(r"\buser: Any\b|\buser: \"Any\"")
    assert not hits, "annotate user: User (linli.core.types):\n" + "\n".join(hits)


#: The one set of aliases for Linli's own modules: a room by its letter (``models as m``,
#: ``queries as q``, ``services as svc``, ``views as v`` — also a topic of a room package,
#: ``from linli.consult.services import ballots as svc``), or, where two would clash, ``<app>_<module>``
#: (``places_models``, ``consult_ballots``). Any other Linli module is imported under its own name.
ROOM_ALIASES = {"models": "m", "queries": "q", "services": "svc", "views": "v"}


def _alias_problem(path: Path, module: str, name: str, alias: str) -> str | None:
    parts = f"{module}.{name}".split(".")
    if parts[0] != "linli" or len(parts) < 3:
        return None
    app, room = parts[1], parts[2]
    if alias == ROOM_ALIASES.get(room) or alias == f"{app}_{parts[-1]}":
        return None
    expected = " or ".join(x for x in (ROOM_ALIASES.get(room), f"{app}_{parts[-1]}") if x)
    return f"{_rel(path)}: import {'.'.join(parts)} as {alias} (use {expected}, or no alias)"


def test_one_set_of_import_aliases() -> None:
    found = []
    for where in (LINLI, ROOT / "tests", ROOT / "bench"):
        for path in _py_files(where):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("linli"):
                    for alias in node.names:
                        if alias.asname and _is_module(f"{node.module}.{alias.name}"):
                            problem = _alias_problem(path, node.module, alias.name, alias.asname)
                            if problem:
                                found.append(problem)
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.startswith("linli") and alias.asname:
                            found.append(f"{_rel(path)}: import {alias.name} as {alias.asname}")
    assert not found, "import aliases differ from the house's (docs/architecture.md):\n" + "\n".join(found)


def _is_module(dotted: str) -> bool:
    rel = Path(*dotted.split("."))
    return (ROOT / f"{rel}.py").exists() or (ROOT / rel / "__init__.py").exists()


# --- the repository is enough --------------------------------------------------------------------


def _text_files() -> Iterator[Path]:
    yield ROOT / "README.md"
    yield ROOT / "Makefile"
    yield from sorted((ROOT / "docs").glob("*.md"))
    for where in (LINLI, ROOT / "bench"):
        for path in where.rglob("*"):
            if path.suffix in {".py", ".html", ".js", ".md", ".txt"} and "migrations" not in path.parts:
                yield path


def test_nothing_points_outside_the_repository() -> None:
    """The rules the code cites live in docs/rules.md: a clone alone is enough."""
    hits = [
        f"{_rel(p)}:{n}"
        for p in _text_files()
        for n, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
        if re.search(r"shared/design|shared/seeds|\.\./shared", line)
    ]
    assert not hits, "references outside the repository: " + ", ".join(hits)


def test_every_cited_rule_exists() -> None:
    """Each "rules.md §N" the code or docs cite is a section of docs/rules.md."""
    rules = (ROOT / "docs" / "rules.md").read_text()
    sections = {int(n) for n in re.findall(r"^## (\d+)\.", rules, re.M)}
    cited: set[tuple[str, int]] = set()
    for path in _text_files():
        for match in re.finditer(r"rules\.md\s*§\s*(\d+)(?:\s*[–-]\s*(\d+))?", path.read_text(errors="replace")):
            for n in range(int(match.group(1)), int(match.group(2) or match.group(1)) + 1):
                cited.add((_rel(path), n))
    missing = sorted((p, n) for p, n in cited if n not in sections)
    assert not missing, f"cited sections missing from docs/rules.md: {missing}"

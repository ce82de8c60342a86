"""The real production stack on this machine, for smoke tests and benchmarks.

    with production_stack(workers=2, task_workers=1, LINLI_LOG_LEVEL="WARNING") as stack:
        stack.manage("open311_key", "create", "kiosk", "--district", "500107")
        world = stack.make_world()            # tests.conftest.make_world() in the stack's database
        c = stack.client()                    # plain HTTP as nginx forwards it (X-Forwarded-Proto: https)
        c.sign_in(world["users"]["community_worker"])
        c.get("/places/")

What it starts, each torn down again in ``finally`` (also when start-up fails half-way):

1. a fresh **PostgreSQL** database ``<db_prefix>_<random>`` on ``LINLI_STACK_PG`` (default
   ``postgres://postgres@127.0.0.1:5432/``), dropped at the end ``WITH (FORCE)`` (its connections
   are terminated);
2. **Redis** for ``LINLI_CACHE_URL``: a ``redis-server`` of its own on a free port (nothing saved to
   disk) when the binary is installed, so two stacks never share rate-limit counters or progress
   keys; otherwise db 5 of the server at 127.0.0.1:6379. A ``LINLI_CACHE_URL`` passed in ``env``
   is used as given;
3. ``manage.py migrate`` and ``collectstatic`` with the production settings (``LINLI_DEBUG=0``,
   secrets generated for the run, every directory under a temporary folder);
4. **gunicorn** with ``deploy/gunicorn.conf.py`` on a free port (``LINLI_WEB_WORKERS=workers``);
5. ``task_workers`` background workers (``manage.py linli_worker`` when the runs app provides it,
   else django-tasks-db's ``manage.py db_worker``), as the systemd unit ``linli-worker@.service``
   runs them.

``env`` overrides any variable of the processes' environment (e.g. ``LINLI_SSL_REDIRECT="0"`` for a
benchmark that speaks plain HTTP without the proxy header). Requires a PostgreSQL server:
``pg_available()`` says whether one answers (tests skip with that reason).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from tests import redisd
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[1]
PG_ADMIN = os.environ.get("LINLI_STACK_PG", "postgres://postgres@127.0.0.1:5432/").rstrip("/")
PASSWORD = "a-long-test-password"  # tests/factories.py UserFactory, make_world's users
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


# --- small helpers ---------------------------------------------------------------------------------


def _admin() -> Any:
    import psycopg

    return psycopg.connect(f"{PG_ADMIN}/postgres", autocommit=True, connect_timeout=3)


def pg_available() -> str:
    """'' when a PostgreSQL server answers at LINLI_STACK_PG, else the reason it does not."""
    try:
        _admin().close()
    except Exception as exc:  # any failure to connect means "no server for this run"
        return f"no PostgreSQL answers at {PG_ADMIN}/ ({type(exc).__name__}: {str(exc).strip()[:120]})"
    return ""


def create_database(prefix: str = "linli_deploy") -> str:
    name = f"{prefix}_{secrets.token_hex(4)}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_database(name: str) -> None:
    """Drop a database, terminating whatever is still connected to it (PostgreSQL 13+)."""
    with _admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(name: str) -> str:
    return f"{PG_ADMIN}/{name}"


@contextlib.contextmanager
def redis_url(db: int = 5) -> Iterator[str]:
    """A Redis for one stack: its own redis-server on a free port when installed, else 6379/<db>."""
    with redisd.own_server() as url:
        if url is not None:
            yield url
            return
    if not redisd.answers("127.0.0.1", 6379):
        raise RuntimeError("no redis-server installed and nothing answers at 127.0.0.1:6379")
    yield f"redis://127.0.0.1:6379/{db}"


def _stop(proc: subprocess.Popen[Any], seconds: float = 20) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- HTTP as the proxy forwards it ---------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    content: bytes

    @property
    def body(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.content)


@dataclass
class Client:
    """Plain HTTP to gunicorn, as the TLS-terminating nginx forwards it (X-Forwarded-Proto: https),
    with a cookie jar that keeps Secure cookies (a browser behind TLS would)."""

    port: int
    https: bool = True
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: str = "text/html",
        timeout: float = 60,
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"Host": f"127.0.0.1:{self.port}", "Accept": accept}
        origin = f"{'https' if self.https else 'http'}://127.0.0.1:{self.port}"
        if self.https:
            sent["X-Forwarded-Proto"] = "https"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = origin
            sent["Referer"] = origin + path
            if "csrftoken" in self.cookies:
                sent["X-CSRFToken"] = self.cookies["csrftoken"]
        sent.update(headers or {})
        try:
            conn.request(method, path, body=body, headers=sent)
            r = conn.getresponse()
            content = r.read()
        finally:
            conn.close()
        for raw in r.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Answer(r.status, r.headers, content)

    def get(self, path: str, accept: str = "text/html", headers: Mapping[str, str] | None = None) -> Answer:
        return self.request("GET", path, accept=accept, headers=headers)

    def post(self, path: str, data: Mapping[str, str], **kw: Any) -> Answer:
        return self.request("POST", path, data=data, **kw)

    def csrf_token(self, path: str) -> str:
        page = self.get(path)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        if not found:
            raise AssertionError(f"no CSRF token on {path} ({page.status}): {page.body[:300]}")
        return found.group(1)

    def sign_in(self, username: str, password: str = PASSWORD) -> None:
        token = self.csrf_token("/accounts/login/")
        r = self.post(
            "/accounts/login/",
            {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/"},
        )
        if r.status != 302:
            raise AssertionError(f"sign-in as {username} answered {r.status}: {r.body[:300]}")


# --- the stack -------------------------------------------------------------------------------------


MAKE_WORLD = """
import json
from tests.conftest import make_world
w = make_world()
print("WORLD=" + json.dumps({
    "users": {role: u.username for role, u in w.users.items()},
    "admin": w.admin.username, "outsider": w.outsider.username,
    "district": w.district.code, "ids": {k: getattr(w, k).pk for k in (
        "district", "street1", "street2", "comm_a", "comm_b", "comm_c", "compound_a", "compound_b",
        "building_a", "building_b", "grid_a", "grid_b", "dwelling_a", "dwelling_b", "owner_a", "owner_b")},
}))
"""

MAKE_USER = """
import sys
from linli.accounts.models import User
name, password, superuser = sys.argv[1:4]
if superuser == "1":
    User.objects.create_superuser(name, password=password)
else:
    User.objects.create_user(name, password=password)
"""


def manage(
    env: Mapping[str, str], *args: str, timeout: float = 300, check: bool = True
) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    if check and r.returncode != 0:
        raise AssertionError(f"manage.py {' '.join(args[:2])} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r


def django_shell(env: Mapping[str, str], code: str, *argv: str, timeout: float = 300, check: bool = True) -> str:
    """Run ``code`` in a new Python process inside Django with ``env``; returns its stdout (raises
    with stdout and stderr when it fails and ``check``)."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", prefix="linli-shell-", delete=False, encoding="utf-8") as f:
        f.write(f"import sys, django\nsys.path.insert(0, {str(ROOT)!r})\ndjango.setup()\n{code}")
    try:
        r = subprocess.run(
            [sys.executable, f.name, *argv], cwd=ROOT, env=dict(env), capture_output=True, text=True, timeout=timeout
        )
    finally:
        os.unlink(f.name)
    if check and r.returncode != 0:
        raise AssertionError(f"django shell failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
    return r.stdout if check else r.stdout + r.stderr


@dataclass
class Stack:
    base_url: str
    port: int
    env: dict[str, str]
    database: str
    tmp: Path
    web: subprocess.Popen[bytes]
    task_workers: list[subprocess.Popen[bytes]]
    worker_command: str | None  # None: no task worker command is installed (see ``worker_missing``)
    worker_missing: str = ""

    def manage(self, *args: str, timeout: float = 300, check: bool = True) -> subprocess.CompletedProcess[str]:
        """``manage.py ARGS`` with the stack's environment; raises with its output when it fails."""
        return manage(self.env, *args, timeout=timeout, check=check)

    def shell(self, code: str, *argv: str, timeout: float = 300) -> str:
        """Run Python inside Django (the stack's settings and database); returns its stdout.
        ``argv`` reach the code as ``sys.argv[1:]``."""
        return django_shell(self.env, code, *argv, timeout=timeout)

    def make_user(self, username: str, password: str = PASSWORD, superuser: bool = False) -> None:
        self.shell(MAKE_USER, username, password, "1" if superuser else "0")

    def make_world(self) -> dict[str, Any]:
        """``tests.conftest.make_world()`` in the stack's database: user names by role (password
        ``PASSWORD``), the admin's and outsider's names, the district code and the objects' ids."""
        out = self.shell(MAKE_WORLD)
        line = next(x for x in out.splitlines() if x.startswith("WORLD="))
        world: dict[str, Any] = json.loads(line[len("WORLD=") :])
        return world

    def client(self, https: bool = True) -> Client:
        return Client(self.port, https=https)

    def alive(self) -> bool:
        return self.web.poll() is None and all(w.poll() is None for w in self.task_workers)

    def logs(self) -> str:
        """What the processes wrote so far (for an assertion message)."""
        out = []
        for path in sorted((self.tmp / "logs").glob("*.log")):
            text = path.read_text(errors="replace")
            out.append(f"--- {path.name} (last 3,000 characters)\n{text[-3000:]}")
        return "\n".join(out)


def stack_env(tmp: Path, database: str, cache_url: str = "") -> dict[str, str]:
    from cryptography.fernet import Fernet

    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="linli.settings",
        PYTHONPATH=str(ROOT),
        LINLI_DEBUG="0",
        LINLI_SECRET_KEY=secrets.token_urlsafe(50),
        LINLI_FIELD_KEYS=Fernet.generate_key().decode(),
        DATABASE_URL=database_url(database),
        LINLI_CACHE_URL=cache_url,
        LINLI_VAR_DIR=str(tmp / "var"),
        LINLI_STATIC_ROOT=str(tmp / "static"),
        LINLI_MEDIA_ROOT=str(tmp / "media"),
        LINLI_ALLOWED_HOSTS="127.0.0.1,localhost",
        LINLI_TRUSTED_PROXIES="127.0.0.1",
        LINLI_LOG_LEVEL="WARNING",
    )
    return env


def _worker_command(env: dict[str, str]) -> tuple[str | None, str]:
    """The task worker command the project provides: linli_worker (runs app) or db_worker."""
    listed = subprocess.run(
        [sys.executable, "manage.py", "help", "--commands"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    names = set(listed.stdout.split())
    for name in ("linli_worker", "db_worker"):
        if name in names:
            return name, ""
    return None, "neither manage.py linli_worker nor db_worker is installed (django_tasks_db not in INSTALLED_APPS)"


def _wait_http(port: int, proc: subprocess.Popen[bytes], log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({proc.returncode}):\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/accounts/login/", headers={"X-Forwarded-Proto": "https"})
            status = conn.getresponse().status
            conn.close()
            if status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on port {port} in {seconds:.0f} s")


@contextlib.contextmanager
def production_stack(
    workers: int = 2,
    task_workers: int = 1,
    *,
    db_prefix: str = "linli_deploy",
    keep_tmp: bool = False,
    **env: str,
) -> Iterator[Stack]:
    """Start PostgreSQL database + Redis + migrate + collectstatic + gunicorn + task workers; yield a
    ``Stack``; tear everything down even when something fails. See the module's docstring."""
    reason = pg_available()
    if reason:
        raise RuntimeError(reason)
    with contextlib.ExitStack() as cleanup:  # undone in reverse: workers, gunicorn, Redis, database, folder
        tmp = Path(tempfile.mkdtemp(prefix="linli-stack-"))
        if not keep_tmp:
            cleanup.callback(shutil.rmtree, tmp, ignore_errors=True)
        (tmp / "logs").mkdir()
        database = create_database(db_prefix)
        cleanup.callback(drop_database, database)
        cache_url = env.get("LINLI_CACHE_URL") or cleanup.enter_context(redis_url())
        full = stack_env(tmp, database, cache_url)
        full.update({k: str(v) for k, v in env.items()})
        full["LINLI_WEB_WORKERS"] = str(workers)
        port = free_port()
        full["LINLI_BIND"] = f"127.0.0.1:{port}"
        base = f"http://127.0.0.1:{port}"
        manage(full, "migrate", "--noinput", "-v", "0")
        manage(full, "collectstatic", "--noinput", "-v", "0")

        def spawn(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
            log = open(tmp / "logs" / f"{name}.log", "wb")  # noqa: SIM115 (closed by the exit stack)
            cleanup.callback(log.close)
            proc = subprocess.Popen(argv, cwd=ROOT, env=full, stdout=log, stderr=subprocess.STDOUT)
            cleanup.callback(_stop, proc)
            return proc

        web = spawn("gunicorn", [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF)])
        command, missing = _worker_command(full) if task_workers else (None, "")
        runners = []
        if command:
            for i in range(task_workers):
                argv = [sys.executable, "manage.py", command]
                if command == "db_worker":
                    argv += ["--queue-name", "*", "--interval", "0.2", "--no-reload", "--worker-id", f"stack-{i}"]
                runners.append(spawn(f"worker-{i}", argv))
        _wait_http(port, web, tmp / "logs" / "gunicorn.log")
        yield Stack(base, port, full, database, tmp, web, runners, command, missing)

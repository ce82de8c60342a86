"""Production mode serves (issue 9 items 1 and 10), checked in real processes as a deployment runs it.

The CI stage "collectstatic with the manifest storage, pages and 404 checked with DEBUG off": with
``LINLI_DEBUG=0`` and secrets generated into the environment (never into files), a temporary
SQLite database, var and static folders, this runs ``migrate``, ``collectstatic`` (WhiteNoise's
CompressedManifestStaticFilesStorage, exactly as production), makes a small place tree with a user
per role, starts **gunicorn** on a free port and talks plain HTTP to it the way the reverse proxy
does (``X-Forwarded-Proto: https``; Secure cookies are handled by hand, as a browser behind TLS
would). It also runs ``check --deploy`` and checks the file modes of the database and of the
secrets development generates, and that ``make run``'s mode shows Linli's own error pages.

The subprocesses use their own SQLite database whatever ``DATABASE_URL`` says: on the PostgreSQL
pass of ``make test`` the module is skipped (the same processes already ran on the SQLite pass;
nothing here depends on the database engine).
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from tests.ports import free_port

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        (os.environ.get("DATABASE_URL") or "").startswith("postgres"),
        reason="runs its processes on SQLite: already checked on the SQLite pass",
    ),
]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a-long-test-password"  # tests/factories.py UserFactory


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    """A clean environment: nothing of the test run's own settings, production unless told."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "DJANGO_", "DATABASE_URL"))}
    env.update(
        DJANGO_SETTINGS_MODULE="linli.settings",
        LINLI_DEBUG="0",
        LINLI_SECRET_KEY=secrets.token_urlsafe(50),
        LINLI_FIELD_KEYS=Fernet.generate_key().decode(),
        LINLI_VAR_DIR=str(tmp / "var"),
        LINLI_STATIC_ROOT=str(tmp / "static"),
        LINLI_MEDIA_ROOT=str(tmp / "media"),
        DATABASE_URL=f"sqlite:///{tmp / 'var' / 'linli.sqlite3'}",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def _manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def _wait_for(port: int, proc: subprocess.Popen[bytes], seconds: float = 40) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nothing answered on port {port}")


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: str


@dataclass
class Client:
    """Plain HTTP to the app, as the TLS-terminating reverse proxy forwards it."""

    port: int
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self, method: str, path: str, data: dict[str, str] | None = None, https: bool = True, accept: str = "text/html"
    ) -> Answer:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": f"127.0.0.1:{self.port}", "Accept": accept}
        if https:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urllib.parse.urlencode(data)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["Origin"] = f"https://127.0.0.1:{self.port}"
            headers["Referer"] = f"https://127.0.0.1:{self.port}{path}"
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            text = r.read().decode("utf-8", "replace")
        finally:
            conn.close()
        for raw in r.headers.get_all("Set-Cookie") or []:
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return Answer(r.status, r.headers, text)

    def get(self, path: str, https: bool = True, accept: str = "text/html") -> Answer:
        return self.request("GET", path, https=https, accept=accept)

    def sign_in(self, username: str) -> None:
        page = self.get("/accounts/login/")
        assert page.status == 200, page.body[:500]
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.body)
        assert token, "the sign-in form carries a CSRF token"
        r = self.request(
            "POST",
            "/accounts/login/",
            {"csrfmiddlewaretoken": token.group(1), "username": username, "password": PASSWORD, "next": "/"},
        )
        assert r.status == 302 and r.headers["Location"] == "/", (r.status, r.body[:500])


SETUP = """
import json
from django.urls import reverse
from tests.conftest import make_world
w = make_world()
print("WORLD=" + json.dumps({
    "user": w.users["community_worker"].username,
    "pages": [reverse("places:home"), reverse("places:community", args=[w.comm_a.pk]),
              reverse("places:building", args=[w.building_a.pk]), reverse("renewal:project_list"),
              reverse("governance:event_list"), reverse("accounts:me")],
}))
"""


@dataclass
class Production:
    tmp: Path
    env: dict[str, str]
    port: int
    world: dict[str, Any]
    migrate: subprocess.CompletedProcess[str]
    collectstatic: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def production(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Production]:
    tmp = tmp_path_factory.mktemp("production")
    env = _env(tmp)
    migrate = _manage(env, "migrate", "--noinput", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    collect = _manage(env, "collectstatic", "--noinput", "-v", "0")
    assert collect.returncode == 0, collect.stderr
    made = _manage(env, "shell", "-c", SETUP)
    assert made.returncode == 0, made.stderr
    world = json.loads(next(line[6:] for line in made.stdout.splitlines() if line.startswith("WORLD=")))
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "linli.wsgi", "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "60"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, server)
        yield Production(tmp, env, port, world, migrate, collect)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stderr:
            server.stderr.close()


def test_collectstatic_with_the_manifest_storage_writes_hashed_vendor_files(production: Production) -> None:
    """Defect 1: collectstatic stopped at vendor/leaflet/leaflet.js.map (MissingFileError)."""
    manifest = json.loads((production.tmp / "static" / "staticfiles.json").read_text())["paths"]
    for name in ("vendor/leaflet/leaflet.js", "vendor/leaflet/leaflet.css", "vendor/echarts/echarts.min.js"):
        assert name in manifest, name
    assert (production.tmp / "static" / manifest["vendor/leaflet/leaflet.js"]).exists()


def test_signed_in_pages_serve_with_debug_off(production: Production) -> None:
    c = Client(production.port)
    login = c.get("/accounts/login/")
    assert login.status == 200 and "csrfmiddlewaretoken" in login.body
    c.sign_in(production.world["user"])
    for path in production.world["pages"]:
        r = c.get(path)
        assert r.status == 200, (path, r.status, r.body[:300])
        assert "Server error" not in r.body and "Traceback" not in r.body


def test_missing_url_answers_linli_404_not_500(production: Production) -> None:
    c = Client(production.port)
    anonymous = c.get("/no-such-page/")
    assert anonymous.status == 404, anonymous.body[:300]
    assert "页面不存在" in anonymous.body and "Traceback" not in anonymous.body
    c.sign_in(production.world["user"])
    signed_in = c.get("/places/community/999999999/")
    assert signed_in.status == 404 and "页面不存在" in signed_in.body


def test_hashed_static_files_are_served_with_a_long_cache(production: Production) -> None:
    c = Client(production.port)
    c.sign_in(production.world["user"])
    page = c.get(production.world["pages"][1])  # the community page: map and charts
    assets = re.findall(r'(?:src|href)="(/static/[^"]+\.[0-9a-f]{12}\.(?:js|css))"', page.body)
    assert any("/vendor/leaflet/leaflet." in a for a in assets), assets
    assert any("/linli/site." in a for a in assets), assets
    for path in assets:
        r = c.get(path)
        assert r.status == 200, path
        cache = r.headers.get("Cache-Control", "")
        assert "max-age=315360000" in cache and "immutable" in cache, (path, cache)


def test_api_schema_and_docs_need_sign_in(production: Production) -> None:
    c = Client(production.port)
    assert c.get("/api/v1/schema/", accept="*/*").status in (401, 403)
    docs = c.get("/api/v1/docs/")
    assert docs.status == 302 and docs.headers["Location"].startswith("/accounts/login/")
    assert c.get("/api/v1/redoc/").status == 302
    c.sign_in(production.world["user"])
    schema = c.get("/api/v1/schema/", accept="*/*")
    assert schema.status == 200 and "openapi" in schema.body
    assert c.get("/api/v1/docs/").status == 200
    assert c.get("/api/v1/redoc/").status == 200


def test_plain_http_is_redirected_and_https_answers_carry_hsts(production: Production) -> None:
    c = Client(production.port)
    plain = c.get("/accounts/login/", https=False)
    assert plain.status == 301 and plain.headers["Location"].startswith("https://")
    secure = c.get("/accounts/login/")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    session = [raw for raw in secure.headers.get_all("Set-Cookie") or [] if raw.startswith("csrftoken=")]
    assert session and "Secure" in session[0]


def test_pages_carry_a_content_security_policy_without_inline_scripts(production: Production) -> None:
    c = Client(production.port)
    policy = c.get("/accounts/login/").headers.get("Content-Security-Policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split(";") if d.strip()}
    assert directives.get("default-src") == ["'self'"], policy
    assert "'unsafe-inline'" not in directives.get("script-src", []), policy
    assert directives.get("object-src") == ["'none'"] and directives.get("frame-ancestors") == ["'none'"]
    assert directives.get("base-uri") == ["'self'"] and directives.get("form-action") == ["'self'"]


def test_database_file_and_its_wal_are_private(production: Production) -> None:
    """Defect 10: the SQLite file was created world-readable (644)."""
    var = production.tmp / "var"
    db = var / "linli.sqlite3"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    conn = sqlite3.connect(db)  # WAL mode: while a connection is open SQLite keeps -wal and -shm
    try:
        conn.execute("select count(*) from django_migrations").fetchone()
        for suffix in ("-wal", "-shm"):
            side = Path(f"{db}{suffix}")
            assert side.exists(), suffix
            assert stat.S_IMODE(side.stat().st_mode) == 0o600, suffix
    finally:
        conn.close()


def test_check_deploy_is_clean(production: Production) -> None:
    """Defect 10: check --deploy warned about HSTS (W004) and the SSL redirect (W008)."""
    r = _manage(production.env, "check", "--deploy")
    assert r.returncode == 0, r.stdout + r.stderr
    issues = set(re.findall(r"\(([\w.]+\.[CEWI]\d+)\)", r.stdout + r.stderr))
    # drf-spectacular's own W001 notes on how the schema is generated are the schema's business
    # (the schemathesis run), not deployment's; every other warning fails here.
    assert issues <= {"drf_spectacular.W001"}, r.stdout + r.stderr


def test_production_without_secrets_refuses_to_start_even_with_the_old_switch(tmp_path: Path) -> None:
    """Defect 10: LINLI_DEV_SECRETS=1 made production generate its own secrets."""
    env = _env(tmp_path, LINLI_DEV_SECRETS="1")
    del env["LINLI_SECRET_KEY"], env["LINLI_FIELD_KEYS"]
    r = _manage(env, "check")
    assert r.returncode != 0 and "LINLI_SECRET_KEY is not set" in r.stderr
    assert not (tmp_path / "var" / "linli_secret_key").exists()


def test_development_secrets_and_database_are_created_private(tmp_path: Path) -> None:
    env = _env(tmp_path, LINLI_DEBUG="1")
    del env["LINLI_SECRET_KEY"], env["LINLI_FIELD_KEYS"]
    r = _manage(env, "check")
    assert r.returncode == 0, r.stderr
    var = tmp_path / "var"
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    for name in ("linli_secret_key", "linli_field_keys", "linli.sqlite3"):
        assert stat.S_IMODE((var / name).stat().st_mode) == 0o600, name


def test_make_run_mode_serves_static_and_linli_error_pages_not_technical_ones(tmp_path: Path) -> None:
    """Defect 10: `make run` (LINLI_DEBUG=1) served Django's technical 404/500 pages."""
    env = _env(tmp_path, LINLI_DEBUG="1")
    del env["LINLI_SECRET_KEY"], env["LINLI_FIELD_KEYS"]
    shown = _manage(env, "shell", "-c", "from django.conf import settings; print(settings.DEBUG, settings.LINLI_DEV)")
    assert shown.stdout.splitlines()[-1].split() == ["False", "True"], shown.stdout + shown.stderr
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, server)
        c = Client(port)
        missing = c.get("/no-such-page/", https=False)
        assert missing.status == 404 and "页面不存在" in missing.body
        assert "URLconf" not in missing.body and "DEBUG = True" not in missing.body
        css = c.get("/static/linli/site.css", https=False)
        assert css.status == 200 and "{" in css.body
        assert c.get("/static/vendor/leaflet/leaflet.js", https=False).status == 200
    finally:
        server.terminate()
        server.wait(timeout=15)
        if server.stderr:
            server.stderr.close()

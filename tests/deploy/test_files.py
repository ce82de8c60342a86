"""deploy/ as the district's IT officer installs it: the environment file, gunicorn's settings, the
systemd units, nginx's site and the backup script are checked here without PostgreSQL.

- ``manage.py check --deploy`` with ``deploy/linli.env.example`` (secrets filled in) gives no warning;
- every variable Linli, gunicorn's config or the backup script reads is in the environment file, and
  nothing in it is unknown;
- ``systemd-analyze verify`` accepts every unit (paths pointed at this checkout), and every program
  and ``manage.py`` command they start exists;
- ``nginx -t`` accepts the site, and a real nginx with it serves static files with a year's cache,
  never /media/, redirects plain HTTP, and refuses a body above ``LINLI_MAX_UPLOAD_BYTES`` (skipped
  when nginx is not installed: ``apt-get install nginx-light``).
"""

from __future__ import annotations

import datetime
import http.client
import os
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from tests.stack import ROOT, free_port

DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
ENV_EXAMPLE = DEPLOY / "linli.env.example"
pytestmark = pytest.mark.slow


def env_file(path: Path = ENV_EXAMPLE) -> tuple[dict[str, str], set[str]]:
    """(set variables, every variable named in a ``NAME=`` line, commented out or not)."""
    values, named = {}, set()
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(#\s*)?([A-Z][A-Z0-9_]*)=(.*)$", line)
        if m:
            named.add(m.group(2))
            if not m.group(1):
                values[m.group(2)] = m.group(3)
    return values, named


def production_env(tmp: Path) -> dict[str, str]:
    values, _ = env_file()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LINLI_", "DJANGO_", "DATABASE_URL"))}
    env.update(values)
    env.update(
        LINLI_SECRET_KEY=secrets.token_urlsafe(50),
        LINLI_FIELD_KEYS=Fernet.generate_key().decode(),
        LINLI_VAR_DIR=str(tmp / "var"),
        LINLI_STATIC_ROOT=str(tmp / "static"),
        LINLI_MEDIA_ROOT=str(tmp / "media"),
        DJANGO_SETTINGS_MODULE="linli.settings",
        PYTHONPATH=str(ROOT),
    )
    return env


def test_check_deploy_with_the_production_environment_file_is_clean(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=production_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=180,
    )
    issues = set(re.findall(r"\(([\w.]+\.[CEWI]\d+)\)", r.stdout + r.stderr))
    # drf-spectacular's W001 notes are about how the schema is generated (tests/core/test_production.py)
    assert issues <= {"drf_spectacular.W001"}, r.stdout + r.stderr
    assert r.returncode == 0 or issues, r.stdout + r.stderr


def _read_variables() -> set[str]:
    names: set[str] = set()
    pattern = re.compile(r"""(?:env_\w+|environ\.get|getenv|_secret)\(\s*["']((?:LINLI|DATABASE)_[A-Z0-9_]*)["']""")
    for path in [*(ROOT / "linli").rglob("*.py"), DEPLOY / "gunicorn.conf.py"]:
        names.update(pattern.findall(path.read_text(encoding="utf-8")))
    names.update(re.findall(r"\$\{((?:LINLI|DATABASE)_[A-Z0-9_]*)", (DEPLOY / "backup.sh").read_text()))
    return names


def test_every_variable_read_is_in_the_environment_file_and_nothing_else() -> None:
    _, named = env_file()
    read = _read_variables()
    assert read - named == set(), "add these to deploy/linli.env.example (with a comment)"
    assert named - read == set(), "deploy/linli.env.example names variables nothing reads"


def _units_here(tmp: Path) -> Path:
    """The units with /srv/linli → this checkout, the env file → a filled-in copy, user → root."""
    env = tmp / "linli.env"
    env.write_text(ENV_EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp / "units"
    out.mkdir()
    for unit in UNITS.iterdir():
        text = (
            unit.read_text(encoding="utf-8").replace("/etc/linli/linli.env", str(env)).replace("/srv/linli", str(ROOT))
        )
        text = re.sub(r"^(User|Group)=linli$", r"\1=root", text, flags=re.M)
        (out / unit.name).write_text(text, encoding="utf-8")
    return out


def _timer_targets() -> dict[str, str]:
    return {
        t.name: re.search(r"^Unit=(\S+)$", t.read_text(), re.M).group(1)  # type: ignore[union-attr]
        for t in UNITS.glob("*.timer")
    }


def test_systemd_units_verify(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (the parser test below still runs)")
    units = _units_here(tmp_path)
    names = [f"./{u.name}" for u in units.iterdir() if "@." not in u.name]
    names += ["./linli-worker@1.service", "./linli-worker@2.service", "./linli-sensing-mqtt@1.service"]
    names += [f"./{target}" for target in _timer_targets().values() if "@" in target]
    r = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *sorted(set(names))],
        cwd=units,
        capture_output=True,
        text=True,
        timeout=120,
    )
    problems = [line for line in (r.stdout + r.stderr).splitlines() if "linli" in line]
    assert r.returncode == 0 and not problems, r.stdout + r.stderr


def test_every_program_and_command_the_units_start_exists() -> None:
    from django.core.management import get_commands

    commands = set(get_commands())
    started: set[str] = set()
    for unit in UNITS.iterdir():
        for line in unit.read_text().splitlines():
            if not line.startswith(("ExecStart=", "ExecReload=")):
                continue
            argv = line.split("=", 1)[1].split()
            for word in argv:
                if word.startswith("/srv/linli/"):
                    local = ROOT / word.removeprefix("/srv/linli/")
                    assert local.exists(), f"{unit.name}: {word}"
                    if word == argv[0]:
                        assert os.access(local, os.X_OK) or local.name in ("python", "gunicorn"), word
            if "manage.py" in line:
                started.add(argv[argv.index(next(w for w in argv if w.endswith("manage.py"))) + 1])
    for target in _timer_targets().values():
        assert (UNITS / re.sub(r"@[^.]+\.", "@.", target)).exists() or (UNITS / target).exists(), target
        m = re.match(r"linli-manage@(\w+)\.service", target)
        if m:
            started.add(m.group(1))
    started.discard("%i")
    assert {
        "linli_worker",
        "escalate_events",
        "count_due_ballots",
        "expire_runs",
        "expire_import_previews",
        "notify_sweep",
    } <= started
    assert started - commands == set(), "units start manage.py commands that do not exist"


def test_gunicorn_config_loads_and_follows_the_environment(tmp_path: Path) -> None:
    env = {**production_env(tmp_path), "LINLI_WEB_WORKERS": "3", "LINLI_TRUSTED_PROXIES": "10.0.0.0/8,127.0.0.1"}

    def gunicorn(flag: str, **changes: str) -> tuple[int, str, dict[str, str]]:
        """gunicorn --print-config or --check-config with the environment changed: (code, output, config)."""
        done = subprocess.run(
            [sys.executable, "-m", "gunicorn", "-c", str(DEPLOY / "gunicorn.conf.py"), flag],
            cwd=tmp_path,
            env={**env, **changes},
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.returncode, done.stdout + done.stderr, dict(re.findall(r"^(\w+)\s+= (.*)$", done.stdout, re.M))

    code, output, config = gunicorn("--print-config")
    assert code == 0, output
    assert config["workers"] == "3" and config["worker_class"] == "gthread"
    assert config["forwarded_allow_ips"] == "['10.0.0.0/8', '127.0.0.1']", config["forwarded_allow_ips"]
    assert int(config["max_requests"]) > 0 and int(config["max_requests_jitter"]) > 0
    assert config["control_socket_disable"] == "True"
    code, output, _ = gunicorn("--check-config", LINLI_WEB_WORKERS="four")
    assert code != 0 and "LINLI_WEB_WORKERS" in output
    # "sync" is one thread a worker: gunicorn would run gthread for sync with threads > 1 (issue 11)
    code, output, config = gunicorn("--print-config", LINLI_WEB_WORKER_CLASS="sync")
    assert code == 0 and config["worker_class"] == "sync" and config["threads"] == "1", output
    code, output, _ = gunicorn("--check-config", LINLI_WEB_WORKER_CLASS="sync", LINLI_WEB_THREADS="4")
    assert code != 0 and "LINLI_WEB_THREADS" in output


def test_backup_script_is_valid_shell() -> None:
    script = DEPLOY / "backup.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["sh", "-n", str(script)]).returncode == 0


# --- nginx -----------------------------------------------------------------------------------------


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "linli.example.gov.cn")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    crt, pem = tmp / "cert.pem", tmp / "key.pem"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return crt, pem


def nginx_here(tmp: Path, upstream: int, static_root: Path) -> tuple[Path, int, int]:
    """deploy/nginx/linli.conf wrapped in a main config that runs as this user in ``tmp``, on free
    ports, with a self-signed certificate. Returns (config, http port, https port)."""
    crt, key = _self_signed(tmp)
    http_port, https_port = free_port(), free_port()
    site = (DEPLOY / "nginx" / "linli.conf").read_text(encoding="utf-8")
    site = site.replace("server 127.0.0.1:8000", f"server 127.0.0.1:{upstream}")
    site = re.sub(r"listen 80;", f"listen 127.0.0.1:{http_port};", site)
    site = re.sub(r"listen 443 ssl", f"listen 127.0.0.1:{https_port} ssl", site)
    site = re.sub(r"\n\s*listen \[::\].*", "", site)
    site = site.replace("/etc/ssl/linli/fullchain.pem", str(crt)).replace("/etc/ssl/linli/privkey.pem", str(key))
    site = site.replace("alias /srv/linli/static/;", f"alias {static_root}/;")
    (tmp / "site.conf").write_text(site, encoding="utf-8")
    # as root (a CI container), nginx's workers would run as "nobody", who cannot enter pytest's 0700 folders
    user = "user root;" if os.geteuid() == 0 else ""
    main = f"""
{user}
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    include {tmp}/site.conf;
}}
"""
    conf = tmp / "nginx.conf"
    conf.write_text(main, encoding="utf-8")
    return conf, http_port, https_port


def test_nginx_site_values_match_the_settings() -> None:
    from django.conf import settings

    site = (DEPLOY / "nginx" / "linli.conf").read_text(encoding="utf-8")
    values, _ = env_file()
    body = re.search(r"client_max_body_size (\d+);", site)
    assert body and int(body.group(1)) == settings.LINLI_MAX_UPLOAD_BYTES
    alias = re.search(r"alias (\S+);", site)
    assert alias and alias.group(1).rstrip("/") == values["LINLI_STATIC_ROOT"].rstrip("/")
    assert "X-Forwarded-Proto $scheme" in site and "X-Forwarded-For $remote_addr" in site
    assert re.search(r"location \^~ /media/ \{\s*return 404;", site)


def test_nginx_serves_the_site_as_configured(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if nginx is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    static = tmp_path / "static"
    (static / "linli").mkdir(parents=True)
    (static / "linli" / "site.0123456789ab.css").write_text("body{}")
    media = tmp_path / "media"
    media.mkdir()
    conf, http_port, https_port = nginx_here(tmp_path, free_port(), static)
    check = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([nginx, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    try:
        tls = ssl.create_default_context()
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE

        def ask(method: str, path: str, secure: bool = True, **kw: object) -> http.client.HTTPResponse:
            deadline = time.monotonic() + 10
            while True:
                try:
                    c: http.client.HTTPConnection = (
                        http.client.HTTPSConnection("127.0.0.1", https_port, context=tls, timeout=10)
                        if secure
                        else http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
                    )
                    c.request(method, path, headers={"Host": "linli.example.gov.cn"}, **kw)  # type: ignore[arg-type]
                    r = c.getresponse()
                    r.read()
                    return r
                except ConnectionRefusedError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)

        css = ask("GET", "/static/linli/site.0123456789ab.css")
        assert css.status == 200 and "immutable" in css.getheader("Cache-Control", "")
        assert ask("GET", "/static/nope.css").status == 404
        assert ask("GET", "/media/photo.jpg").status == 404
        plain = ask("GET", "/accounts/login/", secure=False)
        assert plain.status == 301 and plain.getheader("Location") == "https://linli.example.gov.cn/accounts/login/"
        big = ask("POST", "/open311/v2/requests.json", body=b"x" * (52428800 + 1))
        assert big.status == 413
        assert ask("GET", "/accounts/login/").status == 502  # no app behind it here: proxied, not served
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()

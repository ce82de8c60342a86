"""Gunicorn settings for Linli in production (``gunicorn -c deploy/gunicorn.conf.py``).

Every value comes from the same environment file as Django's settings (deploy/linli.env.example),
parsed by ``linli/core/env.py``: a malformed value stops gunicorn at start-up with a message naming
the variable, exactly as it stops ``manage.py``.

- ``LINLI_BIND``            where to listen (default ``127.0.0.1:8000``; nginx proxies to it)
- ``LINLI_WEB_WORKERS``     worker processes (default 2 × cores + 1, at most 16)
- ``LINLI_WEB_THREADS``     threads per worker (gthread; default 4): slow clients and long pages do
                            not hold a whole process. With ``sync`` it is 1 (gunicorn runs a "sync"
                            worker with more threads as gthread without a word, so more is refused)
- ``LINLI_WEB_WORKER_CLASS`` ``gthread`` (default: threads, keep-alive) or ``sync`` (one request at a
                            time per process; nginx in front buffers slow clients)
- ``LINLI_WEB_WORKER_CONNECTIONS`` connections one gthread worker holds at once (default: its threads,
                            each closed after its answer, so connections spread over the workers;
                            more keeps idle ones alive for 5 s, and a worker may then hoard them)
- ``LINLI_WEB_TIMEOUT``     seconds a request may take before its worker is restarted (default 60;
                            long work runs in the task workers, not in a request)
- ``LINLI_WEB_MAX_REQUESTS`` requests after which a worker is replaced (default 100000, + up to 10 %
                            jitter, so the workers do not all restart at once; 0 = never). A
                            replacement costs ~1–2 s of CPU (importing Django, new database
                            connections): at 2000, Open311 intake at 500 requests/s restarted a
                            worker every 4 s and spent a tenth of its CPU on it (docs/open311.md)
- ``LINLI_TRUSTED_PROXIES`` the proxy whose X-Forwarded-* headers are believed (the same list Django
                            uses for the client address; default ``127.0.0.1,::1``)
- ``LINLI_WEB_ACCESS_LOG``  ``-`` (stdout → the journal, default), a file, or ``off`` (benchmarks)
- ``LINLI_WEB_CONTROL_SOCKET`` gunicorn's control socket (``gunicornc``); empty = none, the default, so
                            several instances on one machine do not fight over ``~/.gunicorn/gunicorn.ctl``
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from linli.core.env import SettingError, env_choice, env_int, env_list, env_str  # noqa: E402  (pure module: no Django)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "linli.settings")

wsgi_app = "linli.wsgi:application"
chdir = str(ROOT)
bind = env_list("LINLI_BIND", "127.0.0.1:8000")

_cores = os.cpu_count() or 1
workers = env_int("LINLI_WEB_WORKERS", min(2 * _cores + 1, 16), minimum=1, maximum=256)
worker_class = env_choice("LINLI_WEB_WORKER_CLASS", "gthread", ("gthread", "sync"))
threads = env_int("LINLI_WEB_THREADS", 1 if worker_class == "sync" else 4, minimum=1, maximum=64)
if worker_class == "sync" and threads > 1:
    # gunicorn would quietly run gthread workers instead (issue 11: "sync" was measured as gthread)
    raise SettingError("LINLI_WEB_THREADS", str(threads), "1 (or unset) with LINLI_WEB_WORKER_CLASS=sync")
# A gthread worker accepts every connection it can and keeps it for as long as the client (nginx's
# upstream pool, a load generator) keeps it alive: eight connections opened at once went 8/0 to one
# of two workers in two runs of three (bench/bench_open311.py), and that one worker's GIL was the
# ceiling while the other idled. At most ``threads`` connections per worker, each closed after its
# answer (as sync workers do), keeps every worker busy; nginx buffers the request and reconnects
# over loopback. More (LINLI_WEB_WORKER_CONNECTIONS) lets a worker keep idle connections alive.
worker_connections = env_int("LINLI_WEB_WORKER_CONNECTIONS", threads, minimum=1, maximum=10_000)
timeout = env_int("LINLI_WEB_TIMEOUT", 60, minimum=5)
graceful_timeout = 30
# seconds an idle connection is kept; 0 (closed after each answer) when no slot is left for one
keepalive = 5 if worker_connections > threads else 0
max_requests = env_int("LINLI_WEB_MAX_REQUESTS", 100_000, minimum=0)
max_requests_jitter = max_requests // 10
backlog = 2048
# Request line and headers: generous for cookies, tight enough to refuse abuse (the body limit is
# LINLI_MAX_UPLOAD_BYTES, checked by nginx and by Django).
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190

# X-Forwarded-Proto / -For are believed only from the trusted proxy. Django reads the same list for
# the client address (linli/core/net.py), and SECURE_PROXY_SSL_HEADER for https.
forwarded_allow_ips = ",".join(env_list("LINLI_TRUSTED_PROXIES", "")) or "127.0.0.1,::1"
proxy_allow_ips = forwarded_allow_ips

_access = env_str("LINLI_WEB_ACCESS_LOG", "-")
accesslog = None if _access.lower() in ("off", "none", "0") else _access
errorlog = "-"
loglevel = env_str("LINLI_LOG_LEVEL", "INFO").lower()
# client (as the proxy saw it) · peer · user · time · request · status · bytes · referer · agent · ms
access_log_format = '%({x-forwarded-for}i)s %(h)s %(u)s %(t)s "%(r)s" %(s)s %(B)s "%(f)s" "%(a)s" %(M)sms'
# gunicorn's logger, making only the atoms the format uses (the same lines; linli/core/accesslog.py)
logger_class = "linli.core.accesslog.Logger"

_control = env_str("LINLI_WEB_CONTROL_SOCKET", "")
if _control:
    control_socket = _control
else:
    control_socket_disable = True

proc_name = "linli-web"
# Heartbeat files in memory, not on a possibly slow disk (a blocked write makes the arbiter kill workers).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 (gunicorn docs advise it)

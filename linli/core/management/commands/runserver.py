"""``runserver`` (``make run``) with the static files of ``django.contrib.staticfiles`` and a server
that answers kept-alive connections without a 40 ms stall each (``linli/core/servers.py``).

``linli.core`` comes before ``django.contrib.staticfiles`` in ``INSTALLED_APPS`` so that this
command is the one ``manage.py runserver`` runs.
"""

from __future__ import annotations

from django.contrib.staticfiles.management.commands.runserver import Command as StaticFilesRunserver

from linli.core.servers import NoDelayWSGIServer


class Command(StaticFilesRunserver):
    server_cls = NoDelayWSGIServer

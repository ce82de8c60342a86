"""The jobs app's home (``jobs:home``, issue 14): one hub that shows each person their side of the
app — a seeker their profile, nearby jobs and applications; an employer's member their employers,
postings, talent search and service requests; the employment service what waits in its places;
anyone else the two ways in (register as a seeker, register an employer).

Links to pages of other parts of the app are drawn only once those pages exist (``_url``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from linli.jobs.queries import seekers as q
from linli.jobs.views.seekers import _url


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    user = request.user
    seeker = q.mine(user)
    employers = q.employer_cards(user)
    staff = q.serves(user)
    ctx = {
        "seeker": seeker,
        "applications_total": sum(q.my_application_counts(seeker).values()) if seeker is not None else 0,
        "employers": [
            {
                "card": card,
                "url": _url("jobs:employer_detail", card.employer.pk),
                "posting_new": _url("jobs:posting_new", card.employer.pk)
                if card.employer.status == card.employer.Status.VERIFIED
                else "",
                "service_new": _url("jobs:service_new", card.employer.pk) if card.employer.key_enterprise else "",
            }
            for card in employers
        ],
        "staff": q.staff_figures(user) if staff else None,
        "links": {
            "me": _url("jobs:seeker_me"),
            "nearby": _url("jobs:nearby"),
            "applications": _url("jobs:application_mine"),
            "employer_register": _url("jobs:employer_register"),
            "employer_list": _url("jobs:employer_list"),
            "seeker_list": _url("jobs:seeker_list"),
            "seeker_new": _url("jobs:seeker_new"),
            "service_list": _url("jobs:service_list"),
            "targets": _url("jobs:targets"),
            "kiosk": _url("kiosk:home"),
        },
        "can_register_desk": staff and bool(q.streets_served(user)),
        "crumbs": [{"name": _("Jobs"), "url": None}],
    }
    return render(request, "jobs/home/index.html", ctx)

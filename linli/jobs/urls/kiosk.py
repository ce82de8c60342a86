"""The kiosk at /kiosk/ (namespace ``kiosk``; issue 14 §5, docs/jobs.md "The kiosk").

Public pages: the start, the ID-number and code screens and registration need no account; every
screen after the sign-in needs the kiosk's session (``views.kiosk.screen``) and sends anyone
without it back to the start. The start with ``street`` is staff's: binding the kiosk to its street
(``views.kiosk.bind_street``). The CV's one-tap screens (years, hours) are one view (``cv_tap``).
"""

from django.urls import path

from linli.jobs.views import kiosk as v

app_name = "kiosk"

urlpatterns = [
    path("", v.home, name="home"),
    path("language/", v.language, name="language"),
    path("finish/", v.finish, name="finish"),
    path("alive/", v.alive, name="alive"),
    path("id/", v.id_number, name="id"),
    path("code/", v.code, name="code"),
    path("code/again/", v.resend, name="resend"),
    path("register/", v.unknown, name="unknown"),
    path("register/name/", v.register_name, name="register_name"),
    path("register/phone/", v.register_phone, name="register_phone"),
    path("register/code/", v.register_code, name="register_code"),
    path("register/street/", v.register_street, name="register_street"),
    path("register/skills/", v.register_skills, name="register_skills"),
    path("jobs/", v.categories, name="categories"),
    path("jobs/<slug:category>/", v.jobs, name="jobs"),
    path("postings/<linli_id:pk>/", v.job, name="job"),
    path("postings/<linli_id:pk>/skills/", v.cv_skills, name="cv_skills"),
    path("postings/<linli_id:pk>/years/", v.cv_tap, {"field": "years"}, name="cv_years"),
    path("postings/<linli_id:pk>/hours/", v.cv_tap, {"field": "hours"}, name="cv_hours"),
    path("postings/<linli_id:pk>/send/", v.cv_send, name="cv_send"),
    path("slips/<linli_id:pk>/", v.slip, name="slip"),
]

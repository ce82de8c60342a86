"""Public notice pages (namespace ``consult``; names prefixed ``notice_``)."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import notices as v

urlpatterns = [
    path("notices/project/<linli_id:pk>/new/", v.notice_new, name="notice_new"),
    path("notices/<linli_id:pk>/", v.notice_detail, name="notice_detail"),
    path("notices/<linli_id:pk>/correct/", v.notice_correct, name="notice_correct"),
    path("notices/objections/<linli_id:pk>/move/", v.notice_objection_move, name="notice_objection_move"),
    path("notices/<linli_id:pk>/public/", v.notice_public, name="notice_public"),
    path("notices/<linli_id:pk>/object/", v.notice_object, name="notice_object"),
    path("notices/<linli_id:pk>/pdf/", v.notice_pdf, name="notice_pdf"),
]

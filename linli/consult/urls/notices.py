"""Public notice pages (namespace ``consult``; names prefixed ``notice_``)."""

from __future__ import annotations

from django.urls import path

from linli.consult.views import notices as v

urlpatterns = [
    path("notices/project/<int:pk>/new/", v.notice_new, name="notice_new"),
    path("notices/<int:pk>/", v.notice_detail, name="notice_detail"),
    path("notices/<int:pk>/correct/", v.notice_correct, name="notice_correct"),
    path("notices/objections/<int:pk>/move/", v.notice_objection_move, name="notice_objection_move"),
    path("notices/<int:pk>/public/", v.notice_public, name="notice_public"),
    path("notices/<int:pk>/object/", v.notice_object, name="notice_object"),
    path("notices/<int:pk>/pdf/", v.notice_pdf, name="notice_pdf"),
]

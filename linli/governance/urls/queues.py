"""URLs of the department's and the command centre's work queues; the views are ``linli.governance.views.queues``."""

from django.urls import path

from linli.governance.views import queues as v

urlpatterns = [
    path("queue/department/", v.queue_department, name="queue_department"),
    path("queue/department/<linli_id:dept_pk>/", v.queue_department, name="queue_department_for"),
    path("queue/command/", v.queue_command, name="queue_command"),
    path("queue/events/<linli_id:pk>/act/", v.queue_act, name="queue_act"),
    path("queue/requests/<linli_id:pk>/decide/", v.queue_decide, name="queue_decide"),
]

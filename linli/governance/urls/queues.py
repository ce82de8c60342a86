from django.urls import path

from linli.governance.views import queues as views

urlpatterns = [
    path("queue/department/", views.queue_department, name="queue_department"),
    path("queue/department/<linli_id:dept_pk>/", views.queue_department, name="queue_department_for"),
    path("queue/command/", views.queue_command, name="queue_command"),
    path("queue/events/<linli_id:pk>/act/", views.queue_act, name="queue_act"),
    path("queue/requests/<linli_id:pk>/decide/", views.queue_decide, name="queue_decide"),
]

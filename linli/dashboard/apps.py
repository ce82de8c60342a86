from django.apps import AppConfig


class DashboardConfig(AppConfig):
    """The command centre (指挥中心): figures of grid events over one table (issue 4 part 4)."""

    name = "linli.dashboard"
    label = "dashboard"
    verbose_name = "指挥中心 Command centre"

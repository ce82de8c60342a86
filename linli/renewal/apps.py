from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RenewalConfig(AppConfig):
    name = "linli.renewal"
    verbose_name = _("Renovation")

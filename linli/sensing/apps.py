from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SensingConfig(AppConfig):
    name = "linli.sensing"
    verbose_name = _("Sensors and alarms")

    def ready(self) -> None:
        # The intake holds tokens, devices and profiles in process memory (queries/intake.py): a change to
        # any of these rows tells every process to reload (linli/core/generations.py). Bulk updates
        # send no signal: their callers bump themselves.
        from linli.core import generations
        from linli.sensing.models import Channel, Device, DeviceProfile, Gateway, ProfileChannel, ProfileRule

        generations.bump_on_change(Gateway, "sensing-tokens")
        generations.bump_on_change(Device, "sensing-tokens")
        generations.bump_on_change(Device, "sensing-devices")
        generations.bump_on_change(Channel, "sensing-devices")
        for model in (DeviceProfile, ProfileChannel, ProfileRule):
            generations.bump_on_change(model, "sensing-profiles")

from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linli.core"
    verbose_name = "Linli core"

    def ready(self) -> None:
        from linli.core import clock

        clock.install()

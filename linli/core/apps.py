from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "linli.core"
    verbose_name = "Linli core"

    def ready(self) -> None:
        from django.urls import register_converter

        from linli.core import clock
        from linli.core.ids import IdConverter

        clock.install()
        # <linli_id:pk>: every id in a page or API path, read with the one bounded parser.
        register_converter(IdConverter, "linli_id")

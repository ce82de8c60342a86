from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlacesConfig(AppConfig):
    name = "linli.places"
    verbose_name = _("Places")

    def ready(self) -> None:
        # Snapping holds the buildings in each process's memory (queries/spots.py): every save or
        # delete of what it reads tells every process to reload. The bulk writes of services.py
        # (imports, the grid assignment) send no signals and bump themselves.
        from linli.core import generations
        from linli.places.models import Building, Community, Compound, Grid
        from linli.places.queries.spots import GENERATION

        for model in (Building, Community, Compound, Grid):  # a grid's delete unsets its buildings'
            generations.bump_on_change(model, GENERATION)

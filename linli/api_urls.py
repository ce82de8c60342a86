"""/api/v1/: one router; each app registers its viewsets in its own api.py."""

from rest_framework.routers import DefaultRouter

from linli.accounts import api as accounts_api
from linli.consult import api as consult_api
from linli.places import api as places_api
from linli.renewal import api as renewal_api

router = DefaultRouter()
places_api.register(router)
accounts_api.register(router)
renewal_api.register(router)
consult_api.register(router)

urlpatterns = router.urls

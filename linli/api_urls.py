"""/api/v1/: one router; each app registers its viewsets in its own api.py."""

from linli.accounts import api as accounts_api
from linli.consult import api as consult_api
from linli.core.api import Router
from linli.places import api as places_api
from linli.renewal import api as renewal_api
from linli.runs import api as runs_api
from linli.sensing import api as sensing_api

router = Router()  # ids in paths: <linli_id:pk>, never a 500 (linli/core/api.py)
places_api.register(router)
accounts_api.register(router)
renewal_api.register(router)
consult_api.register(router)
runs_api.register(router)
sensing_api.register(router)

urlpatterns = router.urls

from django.urls import path

from marketing_op.config.api import api
from marketing_op.core.reference import api_reference, openapi_yaml

urlpatterns = [
    path("api/reference/", api_reference, name="api-reference"),
    path("api/openapi.yaml", openapi_yaml, name="openapi-yaml"),
    path("api/", api.urls),
]

from django.urls import path

from marketing_op.config.api import api

urlpatterns = [path("api/", api.urls)]

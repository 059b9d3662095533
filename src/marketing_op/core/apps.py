from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "marketing_op.core"
    label = "core"

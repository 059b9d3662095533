from django.apps import AppConfig


class MeasurementsConfig(AppConfig):
    name = "marketing_op.measurements"
    label = "measurements"
    verbose_name = "Measurements"

from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "marketing_op.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"

from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "marketing_op.core"
    label = "core"

    def ready(self) -> None:
        from marketing_op.core.database_routing import data_read_routed
        from marketing_op.core.logs import request_context_forget

        data_read_routed.connect(database_read_routed, dispatch_uid="database_read_routed")

        # Django logs a refused request (404, 401, 500) after the middleware returned: the
        # request's fields stay in the context until its answer is sent.
        request_finished.connect(request_context_forget, dispatch_uid="request_context_forget")


def database_read_routed(sender: object, *, alias: str, **kwargs: object) -> None:
    """Counts the database router's choice. ``core.metrics`` is imported on first use, not
    when the apps are ready: ``serve`` sets the metrics folder of its workers before
    prometheus_client may be imported."""
    from marketing_op.core.metrics import count_database_read

    count_database_read(alias)

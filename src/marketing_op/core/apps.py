import logging

from django.apps import AppConfig
from django.core.signals import request_finished


class CoreConfig(AppConfig):
    name = "marketing_op.core"
    label = "core"

    def ready(self) -> None:
        from marketing_op.core.logs import request_context_forget

        # Django logs a refused request (404, 401, 500) after the middleware returned: the
        # request's fields stay in the context until its answer is sent.
        request_finished.connect(request_context_forget, dispatch_uid="request_context_forget")
        # Python's warnings as log records (logger py.warnings), in LOG_FORMAT like every line.
        logging.captureWarnings(True)

"""The reads of measurement data, one module per endpoint family: ``measurement_pages``
(the measurements list), ``channel_shares``, ``weekly_sales``, ``dimensions`` and
``import_history``, with ``summaries``, the readers of the daily and weekly summaries that
they share. Each endpoint calls one selector here, which returns its page's rows and total
(see ``core.pagination``); every selector takes the organisation as a required argument."""

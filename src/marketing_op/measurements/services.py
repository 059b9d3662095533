"""Only for migrations 0004 and 0006, which import these two names from here: the import
lives in ``measurements.imports``. Delete this module once those migrations carry their own
SQL."""

from marketing_op.measurements.imports import (  # noqa: F401
    campaign_channels_refresh,
    conversion_summaries_refresh,
)

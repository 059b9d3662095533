"""The import of measurement files: formats, validation, staging, the PostgreSQL fast path,
the summaries' upkeep and the service that runs them, all or nothing (``streams`` holds
the bytes: size, hash, gzip, charset).

Callers use the names below; the modules say what each part owns.
"""

from marketing_op.measurements.imports.formats import (
    CSV_COLUMNS,
    MeasurementRow,
    typed_records,
    write_measurement_csv,
)
from marketing_op.measurements.imports.service import (
    IdempotencyKeyReused,
    ImportOutcome,
    ImportRejected,
    ImportSummary,
    LengthRequired,
    UploadBounds,
    UploadCutShort,
    measurement_import,
    measurement_import_file,
)
from marketing_op.measurements.imports.streams import charset_known
from marketing_op.measurements.imports.summaries import conversion_summaries_refresh, day_ranges

__all__ = [
    "CSV_COLUMNS",
    "IdempotencyKeyReused",
    "ImportOutcome",
    "ImportRejected",
    "ImportSummary",
    "LengthRequired",
    "MeasurementRow",
    "UploadBounds",
    "UploadCutShort",
    "charset_known",
    "conversion_summaries_refresh",
    "day_ranges",
    "measurement_import",
    "measurement_import_file",
    "typed_records",
    "write_measurement_csv",
]

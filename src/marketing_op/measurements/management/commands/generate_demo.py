from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from marketing_op.measurements.demo import DEMO_ROWS, DEMO_SEED, demo_measurements
from marketing_op.measurements.imports import write_measurement_csv


class Command(BaseCommand):
    help = "Write demo measurements (with spend) in the import's CSV format to stdout or a file."
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rows", type=int, default=DEMO_ROWS, help="How many rows.")
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help="Random seed.")
        parser.add_argument("--output", "-o", default="-", help="File to write; - for stdout.")

    def handle(self, *args: Any, rows: int, seed: int, output: str, **options: Any) -> None:
        measurements = demo_measurements(rows=rows, seed=seed)
        if output == "-":
            write_measurement_csv(measurements, sys.stdout)
            sys.stdout.flush()
            return
        with open(output, "w", newline="", encoding="utf-8") as stream:
            count = write_measurement_csv(measurements, stream)
        self.stderr.write(f"Wrote {count} rows to {output}")

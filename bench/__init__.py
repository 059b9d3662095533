"""Load benchmarks of Marketing OP (``make bench``); not part of the service or its tests."""

"""Static files with hashed names (cached for a year by WhiteNoise), compressed ahead.

Before ``collectstatic`` has run (tests, a checkout that never ran ``make run``) a page still
renders: a file missing from the manifest keeps its plain name, which WhiteNoise serves from
the packages with a short cache lifetime.
"""

from __future__ import annotations

from django.contrib.staticfiles.storage import ManifestStaticFilesStorage
from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFiles(CompressedManifestStaticFilesStorage):
    manifest_strict = False
    # Source maps are not shipped (the vendored chart library names one it lacks), so their
    # comments are left as they are instead of being rewritten to hashed names.
    patterns = tuple(
        (extension, rules)
        for extension, rules in ManifestStaticFilesStorage.patterns
        if extension != "*.js"
    )

    def stored_name(self, name: str) -> str:
        try:
            return super().stored_name(name)
        except ValueError:
            return name

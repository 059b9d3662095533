# syntax=docker/dockerfile:1
# Marketing OP: production image (granian via `marketing-op serve`).
# Build: make docker-build (docker build -t marketing-op .); run: make docker-up.

ARG PYTHON_IMAGE=python:3.11.13-slim-bookworm

# ---------------------------------------------------------------------------
# Build stage: the hash-pinned runtime requirements and the project wheel in a venv.
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /build

# Runtime dependencies first, so that this layer is cached until the lock changes.
COPY requirements/runtime.txt requirements/runtime.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt

# The build backend (setuptools), hash-pinned in requirements/build.txt (exported from
# uv.lock); it stays in this stage and never reaches the runtime venv.
COPY requirements/build.txt requirements/build.txt
RUN python -m venv /opt/build-tools \
 && /opt/build-tools/bin/pip install --no-cache-dir --require-hashes -r requirements/build.txt

# The project itself: a wheel, installed without dependencies (they are all above).
# README.m[d] matches README.md when present (pyproject's readme) without requiring it.
COPY pyproject.toml README.m[d] ./
COPY src ./src
# The package's core/openapi.yaml (served at /api/openapi.yaml) links to this file.
COPY docs/openapi.yaml ./docs/openapi.yaml
RUN /opt/build-tools/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation -w /build/dist . \
 && /opt/venv/bin/pip install --no-cache-dir --no-deps /build/dist/marketing_op-*.whl

# ---------------------------------------------------------------------------
# Runtime stage: the venv only, as a non-root user.
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

LABEL org.opencontainers.image.title="marketing-op" \
      org.opencontainers.image.description="Marketing OP measurement API (Django + django-ninja, granian)"

ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MARKETING_OP_ENV=production \
    MARKETING_OP_HOME=/app \
    HOST=0.0.0.0 \
    PORT=8000

RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin app \
 && mkdir -p /app/var \
 && chown -R app:app /app

COPY --from=build /opt/venv /opt/venv
COPY --chmod=0755 docker/entrypoint.sh /usr/local/bin/docker-entrypoint

# The dashboard's static files with hashed names (served by WhiteNoise, cached for a year);
# the key only lets the settings load for this step and is not kept.
ENV STATIC_ROOT=/opt/static
RUN SECRET_KEY=collectstatic-only-not-a-secret ALLOWED_HOSTS=localhost \
    marketing-op collectstatic --no-input -v 0

WORKDIR /app
USER 10001:10001

EXPOSE 8000

# GET /api/health/ (200 when the service and its database answer, else 503 -> unhealthy).
# The Host header is the first ALLOWED_HOSTS entry, and X-Forwarded-Proto: https keeps
# SECURE_SSL_REDIRECT (on by default in production) from redirecting the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; host = os.environ.get('ALLOWED_HOSTS', '').split(',')[0].strip().lstrip('.').replace('*', '') or 'localhost'; u.urlopen(u.Request('http://127.0.0.1:%s/api/health/' % os.environ.get('PORT', '8000'), headers={'Host': host, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

# The entrypoint applies migrations (unless MIGRATE_ON_START=0) and then serves.
ENTRYPOINT ["docker-entrypoint"]
CMD ["serve"]

# A slim production image: the front end is built in a Node stage, Python runs as a non-root
# user, static files are collected (hashed and compressed by WhiteNoise) at build time.
# Web: daphne (HTTP + websockets). Worker: the same image with `celery -A orchestration_site worker`.

FROM node:22-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app
WORKDIR /app

# Dependencies first, from pyproject.toml alone, so code changes do not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

COPY . .
COPY --from=frontend /src/static/app ./static/app
RUN SECRET_KEY=build-only-not-used-at-runtime SECRETS_ENCRYPTION_KEYS=ZmFrZS1idWlsZC1vbmx5LWtleS1ub3QtdXNlZC0xMjM= \
    AUDIT_SIGNING_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --noinput \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin app \
 && mkdir -p /app/media /app/var \
 && chown -R app:app /app/media /app/var

USER app
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "--proxy-headers", "orchestration_site.asgi:application"]

# One image for every role: the web process (daphne: HTTP + websockets) and Celery workers.
# docker-compose.yml picks the role with its command.

FROM node:22-slim AS assets
WORKDIR /src
COPY frontend/package.json frontend/package-lock.json frontend/
RUN cd frontend && npm ci --no-audit --no-fund
COPY frontend frontend
RUN cd frontend && npm run build

FROM python:3.12-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --create-home --uid 1000 app
WORKDIR /app
COPY pyproject.toml README.md ./
COPY orchestration_site orchestration_site
COPY teams teams
COPY runs runs
RUN pip install .
COPY . .
COPY --from=assets /src/static/app static/app
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/media /app/var && chown -R app /app/media /app/var
USER app
EXPOSE 8000
CMD ["daphne", "--bind", "0.0.0.0", "--port", "8000", "orchestration_site.asgi:application"]

# Production image: gunicorn serving Django, static files by whitenoise, run as a non-root user.
# The same image runs the web, worker and beat processes (see docker-compose.yml).
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them.
COPY pyproject.toml README.md ./
RUN mkdir -p config tenants marketplaces orders inbox \
    && pip install --upgrade pip \
    && pip install .

COPY . .
RUN pip install --no-deps . \
    && groupadd --system sellerdesk \
    && useradd --system --gid sellerdesk --home-dir /app --shell /usr/sbin/nologin sellerdesk \
    && mkdir -p /app/var /app/staticfiles /app/media \
    # collectstatic needs settings to load; these build-time values never reach a running container.
    && SECRET_KEY=build-only-not-secret TOKEN_ENCRYPTION_KEYS=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
       DEBUG=false ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && chown -R sellerdesk:sellerdesk /app/var /app/staticfiles /app/media

USER sellerdesk
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"

CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-", "--forwarded-allow-ips", "*"]

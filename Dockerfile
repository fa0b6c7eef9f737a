# Portail famille — one image for the web (gunicorn), the Celery worker and the beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    XDG_CACHE_HOME=/tmp/cache \
    MEDIA_ROOT=/var/lib/portail/private \
    STATIC_ROOT=/app/staticfiles

# WeasyPrint's libraries (pango, harfbuzz with subsetting for small PDFs) and a font.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY . .
RUN pip install .

# Static files are collected into the image and served by whitenoise. The key below exists only
# for this build step; the containers get the real SECRET_KEY from the environment.
RUN DEBUG=0 ALLOWED_HOSTS=build.invalid \
    SECRET_KEY=build-only-collectstatic-key-never-used-at-runtime-0123456789abcdef \
    python manage.py collectstatic --noinput

# The app runs as an unprivileged user; only the private documents' directory is writable.
RUN useradd --system --uid 1000 --home-dir /app --shell /usr/sbin/nologin portail \
    && mkdir -p /var/lib/portail/private \
    && chown portail:portail /var/lib/portail/private
USER portail

EXPOSE 8000
CMD ["gunicorn", "portail.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]

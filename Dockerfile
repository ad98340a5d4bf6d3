# Production image: the catalogue served by gunicorn (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PORT=8000

WORKDIR /app
COPY pyproject.toml README.md ./
COPY atmp_catalogue ./atmp_catalogue
COPY products ./products
RUN pip install .
COPY . .
# collectstatic needs settings, not a database: build-time placeholders only.
RUN SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build python manage.py collectstatic --noinput

RUN useradd --create-home app && mkdir -p /srv/atmp/releases && chown app /srv/atmp/releases
USER app
EXPOSE 8000
CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py load_catalogue --if-empty && exec gunicorn atmp_catalogue.wsgi --config gunicorn.conf.py --bind 0.0.0.0:${PORT} --workers 3 --access-logfile -"]

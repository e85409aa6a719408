# syntax=docker/dockerfile:1
# One image for every process: dashboard, public endpoints, worker and the one-shot migration.
# docker-compose.yml picks the process with `command:` and sets a HEALTHCHECK per service.
#
#   docker build -t sales-agent .
#   docker run --rm -p 8502:8502 sales-agent          # public endpoints (embedded SQLite, dev settings)

# --- build: a virtualenv holding the dependencies and the package ------------------------------------
FROM python:3.11-slim AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, from pyproject alone, so code changes do not reinstall them (no dev extras).
# Every dependency ships wheels (psycopg[binary] included): no compiler is needed, none is installed.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt

# Then the project itself (its `sales-agent` console script included).
COPY . .
RUN pip install --no-deps .

# --- runtime -------------------------------------------------------------------------------------------
FROM python:3.11-slim

# PYTHONPATH=/app: the code runs from the source tree, where Home.py, pages/, alembic.ini and migrations/
# live next to the packages (cli/serve.py and core/migrations.py find them relative to the package).
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    DATA_DIR=/app/data

# Fixed ids so files mounted from the host (secrets/secret_key.txt) can be made readable by uid 10001.
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app --shell /usr/sbin/nologin app

COPY --from=build /opt/venv /opt/venv

WORKDIR /app
# Source stays owned by root (read-only for the app); only data/ is writable.
COPY . .
RUN mkdir -p /app/data && chown app:app /app/data

USER app

EXPOSE 8501 8502

CMD ["sales-agent", "serve", "public", "--host", "0.0.0.0"]

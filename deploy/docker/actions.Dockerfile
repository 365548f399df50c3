# syntax=docker/dockerfile:1
#
# The action server: `python -m actions.server` (docs/production.md).
#
# Build from the project root:
#
#   docker build -f deploy/docker/actions.Dockerfile \
#     -t registry.example.org/detox-assistant-actions:$(git rev-parse --short HEAD) .
#
# No Docker engine runs where this project is tested: this file has not been
# built there.

FROM python:3.10-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/lock.txt /tmp/lock.txt
# Only what the action server imports (no Rasa, no TensorFlow), at the lock's
# versions: rasa_sdk and its Sanic, the handoff store (SQLAlchemy, psycopg2),
# phone validation, the staff webhook client.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install "pip==24.0" \
 && /opt/venv/bin/pip install -c /tmp/lock.txt \
      rasa-sdk phonenumbers SQLAlchemy psycopg2-binary PyYAML aiohttp \
 && /opt/venv/bin/pip check

FROM python:3.10-slim
RUN groupadd --system --gid 10001 actions \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/actions actions
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ACTION_PORT=5055 \
    SANIC_HOST=0.0.0.0
WORKDIR /app

COPY actions/ actions/
COPY common/ common/
# Contact details (each can be overridden by ADMISSIONS_* in the environment)
# and the FAQ topic titles for "Did you mean ...?".
COPY config/contacts.yml config/contacts.yml
COPY knowledge/grounding.yml knowledge/grounding.yml
# Only for a single-container trial without HANDOFF_DB_URL (SQLite under var/).
# In production HANDOFF_DB_URL names PostgreSQL and nothing is written here.
RUN mkdir -p /app/var && chown actions:actions /app/var
LABEL org.opencontainers.image.title="detox-assistant-actions"

USER 10001:10001
EXPOSE 5055
# The server refuses to start without ACTION_SERVER_TOKEN (16+ characters).
CMD ["python", "-m", "actions.server"]

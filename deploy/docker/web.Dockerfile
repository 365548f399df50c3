# syntax=docker/dockerfile:1
#
# The demo page with the chat widget: `python -m web.server`.
#
# In production the center's own site serves chat.js, chat.css and
# socket.io.min.js (docs/channels.md, "The website widget"); this image is for a
# demo or staging host. Build from the project root:
#
#   docker build -f deploy/docker/web.Dockerfile \
#     -t registry.example.org/detox-assistant-web:$(git rev-parse --short HEAD) .
#
# No Docker engine runs where this project is tested: this file has not been
# built there.

# The socket.io client, from web/package-lock.json, as `make install` does.
FROM node:18-slim AS widget
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.10-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/lock.txt /tmp/lock.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install "pip==24.0" \
 && /opt/venv/bin/pip install -c /tmp/lock.txt aiohttp PyYAML \
 && /opt/venv/bin/pip check

FROM python:3.10-slim
RUN groupadd --system --gid 10001 web \
 && useradd --system --uid 10001 --gid 10001 --no-create-home web
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    WEB_PORT=8080 \
    WEB_HOST=0.0.0.0
WORKDIR /app
COPY web/__init__.py web/server.py web/
COPY web/public/ web/public/
COPY --from=widget /web/node_modules/socket.io-client/dist/socket.io.min.js \
     web/node_modules/socket.io-client/dist/socket.io.min.js
COPY common/ common/
LABEL org.opencontainers.image.title="detox-assistant-web"

USER 10001:10001
EXPOSE 8080
# Set CHAT_SOCKET_URL to the Rasa server's public URL (e.g. https://chat.example.org)
# and add this page's origin to the Rasa server's CORS_ORIGINS.
CMD ["python", "-m", "web.server"]

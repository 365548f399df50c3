# syntax=docker/dockerfile:1
#
# The Rasa server: `python -m rasa_server run ...`, with the model and the spaCy
# vectors baked in (docs/production.md, "Model delivery").
#
# Build from the project root, after `make train` (which also builds the spaCy
# vectors in build/spacy/en_vectors_md):
#
#   fp=$(.venv/bin/python -m tools.model_fingerprint)
#   docker build -f deploy/docker/rasa.Dockerfile \
#     --build-arg MODEL=models/clonazepam-$fp.tar.gz \
#     -t registry.example.org/detox-assistant-rasa:$(git rev-parse --short HEAD) .
#
# Written for linux/amd64 (requirements/lock.txt pins the x86-64 TensorFlow
# 2.12 wheels). No Docker engine runs where this project is tested: this file
# has not been built there.

FROM python:3.10-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements/lock.txt /tmp/lock.txt
# lock.txt pins the whole tree, development tools included. `-c` installs only
# what the Rasa server needs, at the lock's versions.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install "pip==24.0" \
 && /opt/venv/bin/pip install -c /tmp/lock.txt "rasa[spacy]==3.6.21" PyYAML \
 && /opt/venv/bin/pip check

FROM python:3.10-slim
RUN groupadd --system --gid 10001 rasa \
 && useradd --system --uid 10001 --gid 10001 --create-home --home-dir /home/rasa rasa
COPY --from=deps /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    RASA_TELEMETRY_ENABLED=false \
    TF_CPP_MIN_LOG_LEVEL=2 \
    SANIC_WORKERS=2 \
    TF_INTRA_OP_PARALLELISM_THREADS=1 \
    TF_INTER_OP_PARALLELISM_THREADS=1 \
    OPENBLAS_NUM_THREADS=1 \
    OMP_NUM_THREADS=1
WORKDIR /app

# The code that runs inside the Rasa process, and the package it shares.
COPY rasa_server/ rasa_server/
COPY common/ common/
# Channels and stores (every value comes from the environment).
COPY credentials.yml endpoints.yml ./
COPY deploy/endpoints.scale.yml deploy/endpoints.scale.yml
# The payload guard accepts only the bot's own buttons: common/buttons.py reads
# them from the domain, the responses and the topic titles.
COPY domain.yml ./
COPY data/responses/ data/responses/
COPY knowledge/grounding.yml knowledge/grounding.yml
# config.yml names the vectors by this path; Rasa loads them at start-up.
COPY build/spacy/en_vectors_md/ build/spacy/en_vectors_md/
# The one model of this image. `--model models` loads the latest (only) file.
ARG MODEL
COPY ${MODEL} models/
LABEL org.opencontainers.image.title="detox-assistant-rasa" \
      org.opencontainers.image.description="Rasa 3.6.21 server of the clonazepam assistant"

USER 10001:10001
EXPOSE 5005
ENTRYPOINT ["python", "-m", "rasa_server"]
# Kubernetes replaces these arguments (deploy/k8s/rasa.yaml) to add --cors.
CMD ["run", "--model", "models", "--endpoints", "deploy/endpoints.scale.yml", \
     "--credentials", "credentials.yml", "--port", "5005"]

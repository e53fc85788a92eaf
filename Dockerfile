# tickwise worker image.
#
#   docker build -t tickwise:0.1.0 .
#   docker run --rm tickwise:0.1.0 --help
#
# Stage 1 builds the tickwise wheel and a virtual environment with every dependency;
# stage 2 copies only that environment onto a clean slim image and runs as a non-root user.
# The shipped model (models/default) travels inside the wheel as package data.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --upgrade pip build
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so that a code change does not reinstall them.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" \
        > /tmp/requirements.txt \
 && /opt/venv/bin/pip install -r /tmp/requirements.txt
COPY . .
RUN /opt/venv/bin/python -m build --wheel --outdir /wheels . \
 && /opt/venv/bin/pip install --no-deps /wheels/tickwise-*.whl

FROM ${PYTHON_IMAGE} AS runtime
# libgomp1: OpenMP runtime that the xgboost wheel links against and slim images lack.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libgomp1 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 tickwise \
 && useradd --system --uid 10001 --gid tickwise --home-dir /var/lib/tickwise --create-home \
        --shell /usr/sbin/nologin tickwise \
 && mkdir -p /var/lib/tickwise/recovery /etc/tickwise \
 && chown -R tickwise:tickwise /var/lib/tickwise
COPY --from=builder /opt/venv /opt/venv
# Fail the build when the wheel did not carry the shipped model (TICKWISE_MODEL=default).
RUN /opt/venv/bin/python -c "import importlib.resources as r, sys; \
d = r.files('models') / 'default'; \
sys.exit(0 if d.is_dir() and any(d.iterdir()) else 'shipped model models/default is missing from the wheel')"
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TICKWISE_MODEL=default \
    TICKWISE_METRICS_HOST=0.0.0.0 \
    TICKWISE_METRICS_PORT=9464
WORKDIR /var/lib/tickwise
USER tickwise:tickwise
# 9464: Prometheus metrics of process 0 (process i listens on 9464 + i); 2101: Bytewax cluster.
EXPOSE 9464 2101
ENTRYPOINT ["tickwise"]
CMD ["run"]

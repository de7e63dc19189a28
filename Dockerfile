# Production image of the six services: `docker build -t careplan .` (Docker 23+, BuildKit).
#
# Stage 1 builds wheels of the services and of their runtime dependencies only, pinned by
# requirements.lock (the same lock ./dev installs from); stage 2 installs those wheels, offline,
# into a slim image. Not in the image: the dev launcher (`launcher/`), the embedded servers and
# the test tools (the `embedded` and `test` extras), the sources' build tools.
#
# The base image is pinned by digest; to move to a newer python:3.11-slim, take its digest from
#   docker buildx imagetools inspect python:3.11-slim
# and change it here (or try one with --build-arg PYTHON_IMAGE=...).
ARG PYTHON_IMAGE=python:3.11-slim@sha256:9c900dea9e8fb7e16277c179b555cc72d29a352dbc33cff48ad5a0412fd5bfc7

FROM ${PYTHON_IMAGE} AS wheels
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY requirements.lock pyproject.toml README.md ./
# Only what the services import: without launcher/ in the build context the wheel has no launcher.
COPY shared ./shared
COPY services ./services
RUN pip wheel --wheel-dir /wheels --constraint requirements.lock .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN useradd --uid 10001 --no-create-home --shell /usr/sbin/nologin careplan
RUN --mount=type=bind,from=wheels,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels careplan \
    && rm -f /usr/local/bin/careplan
WORKDIR /app
USER 10001
EXPOSE 8000
# Each Deployment sets its own command: uvicorn --factory services.<name>.bootstrap:create_app
# --host 0.0.0.0 --port 8000. The root file system can be read-only (no byte code is written).

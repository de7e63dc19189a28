# Production image of the six services (no embedded servers: they are dev/test only).
FROM python:3.11-slim
RUN useradd --uid 10001 --create-home careplan
WORKDIR /app
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY services ./services
COPY launcher ./launcher
RUN pip install --no-cache-dir .
USER 10001
EXPOSE 8000
# Each Deployment sets its own command: uvicorn --factory services.<name>.bootstrap:create_app

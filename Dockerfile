# One image for every service and the gateway; the command picks which one runs:
#   docker run IMAGE python -m services.run cases
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/app/var
WORKDIR /app

COPY pyproject.toml README.md ./
COPY services ./services
COPY gateway ./gateway
COPY scripts ./scripts
RUN pip install . && useradd --create-home --uid 10001 app && mkdir -p /app/var && chown app /app/var

USER app
EXPOSE 8000 9101 9102 9103 9104 9105
CMD ["python", "-m", "services.run", "gateway"]

# One image for the backend, its worker and both fakes; the checkout demo is built in the first stage.
FROM node:20-bookworm-slim AS frontend
WORKDIR /src/frontend
COPY frontend/package.json frontend/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY frontend/ ./
RUN npm run build

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY backend/ backend/
COPY fakes/ fakes/
RUN pip install -e '.[postgres]'
COPY --from=frontend /src/frontend/dist frontend/dist
RUN useradd --system --home /app payments && mkdir -p /app/backend/instance && chown payments /app/backend/instance
USER payments
WORKDIR /app/backend
EXPOSE 37821
CMD ["gunicorn", "--config", "gunicorn.conf.py", "payment_backend:create_app()"]

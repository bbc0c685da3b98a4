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
# No PAYMENT_MODE here: unset, the service runs in real mode and refuses to start without its
# secrets, so the image never binds 0.0.0.0 in an open mode by accident (compose sets the mode).
CMD ["gunicorn", "--config", "gunicorn.conf.py", "payment_backend:create_app()"]

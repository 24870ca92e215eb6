"""Seeing what the bot does: structlog configuration, the one summary log line per Slack request, Prometheus
metrics, and the health and readiness endpoints."""

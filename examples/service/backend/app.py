"""The example service: a FastAPI app whose /metrics route serves prometheus_client's exposition."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest

app = FastAPI(title="envlock example service")
REQUESTS = Counter("example_requests", "Requests served by the example service", ["route"])


@app.get("/")
def index() -> dict[str, str]:
    REQUESTS.labels(route="/").inc()
    return {"service": "envlock example", "status": "ok"}


@app.get("/health")
def health() -> dict[str, str]:
    REQUESTS.labels(route="/health").inc()
    return {"status": "ok"}


@app.get("/metrics")
def metrics() -> Response:
    REQUESTS.labels(route="/metrics").inc()
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

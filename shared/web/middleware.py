"""Request metrics by route template (never the raw path: it may carry identifiers)."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response

HTTP_REQUESTS = Counter("careplan_http_requests_total", "HTTP requests", ["service", "route", "method", "status"])
HTTP_DURATION = Histogram("careplan_http_request_duration_seconds", "HTTP request duration", ["service", "route"])


class RequestMetricsMiddleware(BaseHTTPMiddleware):
    """Counts and times requests by route template."""

    def __init__(self, app: Any, service: str) -> None:
        super().__init__(app)
        self._service = service

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        HTTP_REQUESTS.labels(self._service, template, request.method, str(response.status_code)).inc()
        HTTP_DURATION.labels(self._service, template).observe(time.perf_counter() - started)
        return response

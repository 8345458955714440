"""Prometheus metrics shared by every role; exposed by the API at GET /metrics.

One registry per process (not the global default), so tests can build apps freely.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

HTTP_REQUESTS = Counter("klinik_http_requests_total", "HTTP requests by route and status",
                        ["method", "route", "status"], registry=REGISTRY)
HTTP_LATENCY = Histogram("klinik_http_request_seconds", "HTTP request latency by route",
                         ["method", "route"], registry=REGISTRY)
BOOKINGS = Counter("klinik_bookings_total", "Booking attempts by outcome and source",
                   ["outcome", "source"], registry=REGISTRY)
WEBHOOKS = Counter("klinik_webhooks_total", "Wati webhooks by outcome",
                   ["outcome"], registry=REGISTRY)
OUTBOX = Counter("klinik_outbox_total", "Outbox deliveries by kind, channel and outcome",
                 ["kind", "channel", "outcome"], registry=REGISTRY)
OUTBOX_BACKLOG = Gauge("klinik_outbox_backlog",
                       "Outbox entries overdue by more than a minute (set by the scheduler)",
                       registry=REGISTRY)
HANDOFFS_OPEN = Gauge("klinik_handoffs_open",
                      "Open handoffs no person has answered yet (patients waiting for staff)",
                      registry=REGISTRY)
REMINDERS = Counter("klinik_reminders_total", "Reminders by outcome",
                    ["outcome"], registry=REGISTRY)

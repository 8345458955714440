# What to watch (docs/deploy.md "What to watch"): an uptime check on the public API and
# alert policies on the app's Prometheus metrics (Managed Service for Prometheus, scraped by
# the PodMonitoring of the gke overlay), all e-mailed to alert_email.
resource "google_monitoring_notification_channel" "email" {
  display_name = "Klinik on-call"
  type         = "email"
  labels = {
    email_address = var.alert_email
  }
}

# The doctor directory goes through the load balancer, the api role and MongoDB.
resource "google_monitoring_uptime_check_config" "api" {
  display_name = "klinik public API"
  timeout      = "10s"
  period       = "60s"
  http_check {
    path           = "/doctors?page_size=1"
    port           = 443
    use_ssl        = true
    validate_ssl   = true
    request_method = "GET"
    accepted_response_status_codes {
      status_class = "STATUS_CLASS_2XX"
    }
  }
  monitored_resource {
    type = "uptime_url"
    labels = {
      project_id = var.project_id
      host       = var.public_host
    }
  }
  selected_regions = ["ASIA_PACIFIC", "EUROPE", "USA_OREGON"]
}

locals {
  # name => [display name, PromQL that is true while the problem lasts, for, documentation]
  alerts = {
    uptime = [
      "Public API down",
      "avg_over_time(monitoring_googleapis_com:uptime_check_check_passed{check_id=\"${google_monitoring_uptime_check_config.api.uptime_check_id}\"}[5m]) < 0.5",
      "300s",
      "The uptime check of GET /doctors failed from most regions for 5 minutes: the load balancer, the api pods or MongoDB. Runbook: docs/deploy.md#public-api-down.",
    ]
    error_rate = [
      "HTTP 5xx rate above 2 %",
      "sum(rate(klinik_http_requests_total{status=~\"5..\"}[5m])) / sum(rate(klinik_http_requests_total[5m])) > 0.02",
      "300s",
      "More than 2 % of requests answered 5xx for 5 minutes. Runbook: docs/deploy.md#error-rate.",
    ]
    latency_p95 = [
      "p95 latency above 1 s",
      "histogram_quantile(0.95, sum by (le) (rate(klinik_http_request_seconds_bucket[5m]))) > 1",
      "600s",
      "The 95th percentile of request time stayed above 1 s for 10 minutes. Runbook: docs/deploy.md#latency.",
    ]
    outbox_backlog = [
      "Outbox backlog above 50",
      "max(klinik_outbox_backlog) > 50",
      "600s",
      "More than 50 notifications overdue by over a minute, for 10 minutes: Wati down or slow, the scheduler stopped, or MongoDB slow. Runbook: docs/deploy.md#outbox-backlog.",
    ]
    dead_notifications = [
      "Notifications given up (dead)",
      "sum(increase(klinik_outbox_total{outcome=\"dead\"}[1h])) > 0",
      "0s",
      "A notification failed on WhatsApp and by e-mail and was given up: a patient was not told. Runbook: docs/deploy.md#dead-notifications.",
    ]
    open_handoffs = [
      "Patients waiting for a human",
      "max(klinik_handoffs_open) > 0",
      "1800s",
      "A conversation handed to a human has been open for 30 minutes (metric from the handoff release). Runbook: docs/deploy.md#open-handoffs.",
    ]
  }
}

resource "google_monitoring_alert_policy" "klinik" {
  for_each              = local.alerts
  display_name          = "klinik: ${each.value[0]}"
  combiner              = "OR"
  notification_channels = [google_monitoring_notification_channel.email.id]
  severity              = contains(["uptime", "error_rate", "dead_notifications"], each.key) ? "CRITICAL" : "WARNING"

  conditions {
    display_name = each.value[0]
    condition_prometheus_query_language {
      query               = each.value[1]
      duration            = each.value[2]
      evaluation_interval = "60s"
    }
  }

  documentation {
    content   = each.value[3]
    mime_type = "text/markdown"
  }
}

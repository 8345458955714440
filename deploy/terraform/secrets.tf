# Secret Manager: one secret per value, replicated in the region only. Terraform creates
# the secrets; the values of the random tokens and keys are added by hand
# (docs/deploy.md), so they never enter the Terraform state. Values Terraform knows anyway
# (Redis AUTH and CA, the Atlas URL) are written here.
locals {
  app_secrets = [
    "klinik-jwt-secret",
    "klinik-wati-webhook-token",
    "klinik-wati-api-token",
    "klinik-actions-token",
    "klinik-rasa-token",
    "klinik-mongodb-url",
    "klinik-redis-url",
    "klinik-redis-auth",
    "klinik-redis-server-ca",
    "klinik-smtp-password",
    "klinik-data-keys",      # required from the data-protection release
    "klinik-data-index-key", # required from the data-protection release
  ]
}

resource "google_secret_manager_secret" "app" {
  for_each  = toset(local.app_secrets)
  secret_id = each.value
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_secret_manager_secret_version" "redis_auth" {
  secret      = google_secret_manager_secret.app["klinik-redis-auth"].id
  secret_data = google_redis_instance.klinik.auth_string
}

resource "google_secret_manager_secret_version" "redis_url" {
  secret      = google_secret_manager_secret.app["klinik-redis-url"].id
  secret_data = "rediss://:${urlencode(google_redis_instance.klinik.auth_string)}@${google_redis_instance.klinik.host}:${google_redis_instance.klinik.port}/0?ssl_ca_certs=/etc/redis-ca/ca.pem"
}

resource "google_secret_manager_secret_version" "redis_ca" {
  secret      = google_secret_manager_secret.app["klinik-redis-server-ca"].id
  secret_data = google_redis_instance.klinik.server_ca_certs[0].cert
}

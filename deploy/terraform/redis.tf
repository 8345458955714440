# Memorystore for Redis: standard tier (a replica in another zone, automatic failover),
# AUTH and in-transit encryption (TLS on port 6378; clients verify the server CA).
resource "google_redis_instance" "klinik" {
  name                    = "klinik"
  region                  = var.region
  tier                    = "STANDARD_HA"
  memory_size_gb          = var.redis_memory_gb
  redis_version           = "REDIS_7_2"
  authorized_network      = google_compute_network.klinik.id
  auth_enabled            = true
  transit_encryption_mode = "SERVER_AUTHENTICATION"
  redis_configs = {
    maxmemory-policy = "noeviction" # locks, holds and the inbox must never be evicted
  }
  maintenance_policy {
    weekly_maintenance_window {
      day = "SUNDAY"
      start_time {
        hours   = 19 # 02:00 WIB
        minutes = 0
      }
    }
  }
  depends_on = [google_project_service.apis]
}

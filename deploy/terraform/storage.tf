# Doctor photos: private bucket (uniform access, no public ACLs); the api role writes,
# the app serves them at /photos/ behind Cloud CDN.
resource "google_storage_bucket" "photos" {
  name                        = "${var.project_id}-klinik-photos"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
}

# Daily MongoDB backups: versioned, colder after a week, deleted after the retention;
# objects cannot be deleted or overwritten for 7 days (a retention policy), so a stolen
# backup credential cannot erase last week's backups.
resource "google_storage_bucket" "backups" {
  name                        = "${var.project_id}-klinik-backups"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"

  versioning {
    enabled = true
  }
  retention_policy {
    retention_period = 7 * 24 * 3600
  }
  lifecycle_rule {
    condition {
      age = 7
    }
    action {
      type          = "SetStorageClass"
      storage_class = "NEARLINE"
    }
  }
  lifecycle_rule {
    condition {
      age = var.backup_retention_days
    }
    action {
      type = "Delete"
    }
  }
  lifecycle_rule {
    condition {
      days_since_noncurrent_time = 7
    }
    action {
      type = "Delete"
    }
  }
}

resource "google_bigquery_dataset" "analytics" {
  dataset_id = "klinik_analytics"
  location   = var.region
  depends_on = [google_project_service.apis]
}

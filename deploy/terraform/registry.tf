resource "google_artifact_registry_repository" "klinik" {
  repository_id = "klinik"
  location      = var.region
  format        = "DOCKER"
  description   = "Klinik WA images: app and rasa"

  cleanup_policies {
    id     = "keep-recent"
    action = "KEEP"
    most_recent_versions {
      keep_count = 30
    }
  }
  cleanup_policies {
    id     = "delete-old"
    action = "DELETE"
    condition {
      older_than = "7776000s" # 90 days, unless among the 30 most recent
    }
  }
  depends_on = [google_project_service.apis]
}

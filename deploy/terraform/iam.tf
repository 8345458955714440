# One Google service account per role, each bound to its Kubernetes service account
# (namespace klinik) through Workload Identity, each with only what it needs.
locals {
  roles = {
    gateway   = "WhatsApp gateway (no Google API access)"
    api       = "REST API: doctor photos bucket"
    actions   = "Rasa custom actions (no Google API access)"
    scheduler = "Scheduler: BigQuery export"
    rasa      = "Rasa (no Google API access)"
    backup    = "MongoDB backups: the backups bucket"
  }
  workload_pool = "${var.project_id}.svc.id.goog"
}

resource "google_service_account" "role" {
  for_each     = local.roles
  account_id   = "klinik-${each.key}"
  display_name = "klinik ${each.key}: ${each.value}"
}

resource "google_service_account_iam_member" "workload_identity" {
  for_each           = local.roles
  service_account_id = google_service_account.role[each.key].name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[klinik/klinik-${each.key}]"
}

# External Secrets reads the app's secrets (and nothing else) as klinik-secrets@.
resource "google_service_account" "secrets" {
  account_id   = "klinik-secrets"
  display_name = "klinik: External Secrets reader"
}

resource "google_service_account_iam_member" "secrets_workload_identity" {
  service_account_id = google_service_account.secrets.name
  role               = "roles/iam.workloadIdentityUser"
  member             = "serviceAccount:${local.workload_pool}[klinik/external-secrets-reader]"
}

resource "google_secret_manager_secret_iam_member" "reader" {
  for_each  = google_secret_manager_secret.app
  secret_id = each.value.id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.secrets.email}"
}

resource "google_storage_bucket_iam_member" "api_photos" {
  bucket = google_storage_bucket.photos.name
  role   = "roles/storage.objectUser"
  member = "serviceAccount:${google_service_account.role["api"].email}"
}

# Backups: create objects and read them back for a restore; never delete (the bucket's
# retention policy and lifecycle rules do that).
resource "google_storage_bucket_iam_member" "backup_writer" {
  bucket = google_storage_bucket.backups.name
  role   = "roles/storage.objectCreator"
  member = "serviceAccount:${google_service_account.role["backup"].email}"
}

resource "google_storage_bucket_iam_member" "backup_reader" {
  bucket = google_storage_bucket.backups.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.role["backup"].email}"
}

resource "google_bigquery_dataset_iam_member" "scheduler_export" {
  dataset_id = google_bigquery_dataset.analytics.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.role["scheduler"].email}"
}

resource "google_project_iam_member" "scheduler_jobs" {
  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.role["scheduler"].email}"
}

# Cloud Build: push images, deploy to the cluster.
data "google_project" "this" {}

resource "google_project_iam_member" "cloudbuild" {
  for_each = toset(["roles/artifactregistry.writer", "roles/container.developer"])
  project  = var.project_id
  role     = each.value
  member   = "serviceAccount:${data.google_project.this.number}@cloudbuild.gserviceaccount.com"
}

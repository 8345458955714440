output "load_balancer_ip" {
  description = "Point the DNS A record of public_host here."
  value       = google_compute_global_address.klinik.address
}

output "nat_ip" {
  description = "Egress address of the cluster (Atlas IP access list, Wati allow lists)."
  value       = google_compute_address.nat.address
}

output "registry" {
  value = "${var.region}-docker.pkg.dev/${var.project_id}/${google_artifact_registry_repository.klinik.repository_id}"
}

# deploy/k8s/overlays/gke/config.env: the non-secret, project-specific settings.
output "k8s_config_env" {
  value = <<-EOT
    GCP_PROJECT=${var.project_id}
    GSA_SUFFIX=${var.project_id}.iam.gserviceaccount.com
    PUBLIC_HOST=${var.public_host}
    PUBLIC_URL=https://${var.public_host}
    CORS_ORIGINS=https://${var.public_host}
    TRUSTED_PROXIES=35.191.0.0/16,130.211.0.0/22
    PHOTO_BUCKET=${google_storage_bucket.photos.name}
    BACKUP_BUCKET=${google_storage_bucket.backups.name}
    BIGQUERY_PROJECT=${var.project_id}
    BIGQUERY_LOCATION=${var.region}
    RASA_REDIS_HOST=${google_redis_instance.klinik.host}
    RASA_REDIS_PORT=${google_redis_instance.klinik.port}
    WATI_API_URL=https://live-mt-server.wati.io/000000
    SMTP_HOST=smtp.example.id
    SMTP_PORT=587
    SMTP_FROM=noreply@${var.public_host}
    SMTP_USERNAME=noreply@${var.public_host}
  EOT
}

# GKE Autopilot: Google runs the nodes; Workload Identity is always on.
resource "google_container_cluster" "klinik" {
  name             = "klinik"
  location         = var.region
  enable_autopilot = true
  network          = google_compute_network.klinik.id
  subnetwork       = google_compute_subnetwork.klinik.id

  ip_allocation_policy {
    cluster_secondary_range_name  = "pods"
    services_secondary_range_name = "services"
  }

  private_cluster_config {
    enable_private_nodes    = true
    enable_private_endpoint = false
    master_ipv4_cidr_block  = "172.16.0.0/28"
  }

  release_channel {
    channel = "REGULAR"
  }

  # NetworkPolicy enforcement (Dataplane V2) is built into Autopilot.
  deletion_protection = true
  depends_on          = [google_project_service.apis]
}

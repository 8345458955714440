resource "google_project_service" "apis" {
  for_each = toset([
    "artifactregistry.googleapis.com",
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com",
    "compute.googleapis.com",
    "container.googleapis.com",
    "iamcredentials.googleapis.com",
    "monitoring.googleapis.com",
    "redis.googleapis.com",
    "secretmanager.googleapis.com",
    "servicenetworking.googleapis.com",
  ])
  service            = each.value
  disable_on_destroy = false
}

resource "google_compute_network" "klinik" {
  name                    = "klinik"
  auto_create_subnetworks = false
  depends_on              = [google_project_service.apis]
}

resource "google_compute_subnetwork" "klinik" {
  name                     = "klinik-${var.region}"
  region                   = var.region
  network                  = google_compute_network.klinik.id
  ip_cidr_range            = "10.10.0.0/20"
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = "10.20.0.0/14"
  }
  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = "10.24.0.0/20"
  }
}

# Private nodes reach Wati, Atlas and SMTP through Cloud NAT on one reserved address,
# which is what Atlas's IP access list admits.
resource "google_compute_address" "nat" {
  name   = "klinik-nat"
  region = var.region
}

resource "google_compute_router" "klinik" {
  name    = "klinik"
  region  = var.region
  network = google_compute_network.klinik.id
}

resource "google_compute_router_nat" "klinik" {
  name                               = "klinik"
  router                             = google_compute_router.klinik.name
  region                             = var.region
  nat_ip_allocate_option             = "MANUAL_ONLY"
  nat_ips                            = [google_compute_address.nat.self_link]
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_IP_RANGES"
}

# The load balancer's address (Ingress annotation kubernetes.io/ingress.global-static-ip-name)
resource "google_compute_global_address" "klinik" {
  name = "klinik-ip"
}

# TLS 1.2+ with modern ciphers (FrontendConfig sslPolicy)
resource "google_compute_ssl_policy" "klinik" {
  name            = "klinik-modern-tls"
  profile         = "MODERN"
  min_tls_version = "TLS_1_2"
}

# MongoDB Atlas on Google Cloud, Jakarta: a dedicated replica set across three zones with
# cloud backups, reached from the cluster's NAT address only. Set atlas_enabled = false to
# create it by hand instead (docs/deploy.md) and put its URL into klinik-mongodb-url.
resource "mongodbatlas_project" "klinik" {
  count  = var.atlas_enabled ? 1 : 0
  name   = "klinik"
  org_id = var.atlas_org_id
}

resource "mongodbatlas_advanced_cluster" "klinik" {
  count          = var.atlas_enabled ? 1 : 0
  project_id     = mongodbatlas_project.klinik[0].id
  name           = "klinik"
  cluster_type   = "REPLICASET"
  backup_enabled = true

  replication_specs {
    region_configs {
      provider_name = "GCP"
      region_name   = "ASIA_SOUTHEAST_2"
      priority      = 7
      electable_specs {
        instance_size = var.atlas_instance_size
        node_count    = 3
      }
    }
  }
}

resource "random_password" "atlas" {
  count   = var.atlas_enabled ? 1 : 0
  length  = 40
  special = false
}

resource "mongodbatlas_database_user" "app" {
  count              = var.atlas_enabled ? 1 : 0
  project_id         = mongodbatlas_project.klinik[0].id
  username           = "klinik-app"
  password           = random_password.atlas[0].result
  auth_database_name = "admin"
  roles {
    role_name     = "readWrite"
    database_name = "klinik"
  }
  roles {
    role_name     = "readWrite"
    database_name = "klinik_restore" # restore drills (docs/deploy.md)
  }
}

resource "mongodbatlas_project_ip_access_list" "nat" {
  count      = var.atlas_enabled ? 1 : 0
  project_id = mongodbatlas_project.klinik[0].id
  ip_address = google_compute_address.nat.address
  comment    = "GKE egress (Cloud NAT)"
}

locals {
  atlas_srv = var.atlas_enabled ? mongodbatlas_advanced_cluster.klinik[0].connection_strings[0].standard_srv : ""
  atlas_url = var.atlas_enabled ? replace(local.atlas_srv, "mongodb+srv://", "mongodb+srv://klinik-app:${random_password.atlas[0].result}@") : ""
}

resource "google_secret_manager_secret_version" "mongodb_url" {
  count       = var.atlas_enabled ? 1 : 0
  secret      = google_secret_manager_secret.app["klinik-mongodb-url"].id
  secret_data = "${local.atlas_url}/klinik?retryWrites=true&w=majority"
}

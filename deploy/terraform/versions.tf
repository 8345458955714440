# Google Cloud for Klinik WA: GKE Autopilot, Memorystore for Redis (TLS), Artifact Registry,
# Cloud Storage (doctor photos, backups), Secret Manager, a service account per role,
# Cloud Monitoring, and MongoDB Atlas on GCP. See docs/deploy.md for the order of steps.
terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = "~> 6.10"
    }
    mongodbatlas = {
      source  = "mongodb/mongodbatlas"
      version = "~> 1.21"
    }
    random = {
      source  = "hashicorp/random"
      version = "~> 3.6"
    }
  }
  # State holds the Redis AUTH string and the Atlas password: keep it in a private,
  # versioned bucket (created by hand once, docs/deploy.md step 1).
  backend "gcs" {
    prefix = "klinik/terraform"
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

provider "mongodbatlas" {
  # MONGODB_ATLAS_PUBLIC_KEY / MONGODB_ATLAS_PRIVATE_KEY from the environment
}

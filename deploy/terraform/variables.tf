variable "project_id" {
  description = "Google Cloud project id."
  type        = string
}

variable "region" {
  description = "Region of every regional resource (Jakarta)."
  type        = string
  default     = "asia-southeast2"
}

variable "public_host" {
  description = "Public host name of the app (DNS A record to the klinik-ip address)."
  type        = string
}

variable "alert_email" {
  description = "Where alerts are e-mailed."
  type        = string
}

variable "redis_memory_gb" {
  description = "Memorystore capacity."
  type        = number
  default     = 1
}

variable "backup_retention_days" {
  description = "Daily MongoDB backups are kept this long."
  type        = number
  default     = 35
}

variable "atlas_enabled" {
  description = "Create the MongoDB Atlas project and cluster here (false: create them by hand, docs/deploy.md)."
  type        = bool
  default     = true
}

variable "atlas_org_id" {
  description = "MongoDB Atlas organisation id."
  type        = string
  default     = ""
}

variable "atlas_instance_size" {
  description = "Atlas tier (M10 is the smallest dedicated tier with backups)."
  type        = string
  default     = "M10"
}

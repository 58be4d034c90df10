variable "identifier" {
  type        = string
  description = "RDS instance identifier and name prefix, e.g. sluice-prod."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,50}[a-z0-9]$", var.identifier)) && !strcontains(var.identifier, "--")
    error_message = "identifier must be lower-case letters, digits and single dashes, starting with a letter (max 52)."
  }
}

variable "engine_version" {
  type        = string
  description = "PostgreSQL major.minor version, e.g. 16.8; the parameter group family follows the major version."
  default     = "16.8"

  validation {
    condition     = can(regex("^(15|16|17)\\.[0-9]+$", var.engine_version))
    error_message = "engine_version must be PostgreSQL 15, 16 or 17 as major.minor."
  }
}

variable "instance_class" {
  type        = string
  description = "Instance class of the primary (and the replica), e.g. db.r6g.large."

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.instance_class))
    error_message = "instance_class must look like db.<family>.<size>."
  }
}

variable "allocated_storage_gib" {
  type        = number
  description = "Initial gp3 storage in GiB."
  default     = 100

  validation {
    condition     = var.allocated_storage_gib >= 20 && var.allocated_storage_gib <= 65536
    error_message = "allocated_storage_gib must be between 20 and 65536."
  }
}

variable "max_allocated_storage_gib" {
  type        = number
  description = "Storage autoscaling ceiling in GiB (must be above allocated_storage_gib)."
  default     = 1000

  validation {
    condition     = var.max_allocated_storage_gib <= 65536
    error_message = "max_allocated_storage_gib must be at most 65536."
  }
}

variable "iops" {
  type        = number
  description = "Provisioned gp3 IOPS (3000 is the baseline; above needs >= 400 GiB). Ingestion is write-heavy: raise it before the instance class."
  default     = 3000

  validation {
    condition     = var.iops >= 3000 && var.iops <= 64000
    error_message = "iops must be between 3000 and 64000."
  }
}

variable "storage_throughput_mibps" {
  type        = number
  description = "Provisioned gp3 throughput in MiB/s (125 is the baseline)."
  default     = 125

  validation {
    condition     = var.storage_throughput_mibps >= 125 && var.storage_throughput_mibps <= 4000
    error_message = "storage_throughput_mibps must be between 125 and 4000."
  }
}

variable "db_name" {
  type        = string
  description = "Name of the database Sluice uses."
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.db_name))
    error_message = "db_name must be a lower-case PostgreSQL identifier."
  }
}

variable "username" {
  type        = string
  description = "Master user name; Sluice connects with it unless an application role is set up (docs/runbooks/key-rotation.md)."
  default     = "sluice"

  validation {
    condition     = can(regex("^[a-z][a-z0-9_]{0,62}$", var.username)) && !contains(["postgres", "admin", "rdsadmin"], var.username)
    error_message = "username must be a lower-case identifier and not a reserved name."
  }
}

variable "multi_az" {
  type        = bool
  description = "Synchronous standby in another AZ with automatic failover (required in prod)."
  default     = true
}

variable "backup_retention_days" {
  type        = number
  description = "Days of automated backups and transaction logs kept for point-in-time recovery."
  default     = 14

  validation {
    condition     = var.backup_retention_days >= 1 && var.backup_retention_days <= 35
    error_message = "backup_retention_days must be 1-35 (0 would disable backups and PITR)."
  }
}

variable "backup_window" {
  type        = string
  description = "Daily backup window (UTC, hh24:mi-hh24:mi), outside the maintenance window."
  default     = "02:00-03:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.backup_window))
    error_message = "backup_window must be hh24:mi-hh24:mi."
  }
}

variable "maintenance_window" {
  type        = string
  description = "Weekly maintenance window (UTC, ddd:hh24:mi-ddd:hh24:mi)."
  default     = "sun:03:30-sun:04:30"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must be ddd:hh24:mi-ddd:hh24:mi."
  }
}

variable "deletion_protection" {
  type        = bool
  description = "Refuse deletion of the instance (turn off explicitly before destroying an environment)."
  default     = true
}

variable "read_replica_count" {
  type        = number
  description = "Read replicas for the query API (DATABASE_READ_URL): 0 or 1. RDS for PostgreSQL has no reader endpoint and the app takes one DATABASE_READ_URL, so a second replica would get no queries."
  default     = 0

  validation {
    condition     = var.read_replica_count == 0 || var.read_replica_count == 1
    error_message = "read_replica_count must be 0 or 1 (the app reads from one DATABASE_READ_URL)."
  }
}

variable "read_replica_instance_class" {
  type        = string
  description = "Instance class of the read replica; null (the default) uses instance_class, the primary's."
  default     = null

  validation {
    condition     = var.read_replica_instance_class == null || can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.read_replica_instance_class))
    error_message = "read_replica_instance_class must be null or look like db.<family>.<size>."
  }
}

variable "performance_insights_retention_days" {
  type        = number
  description = "Performance Insights retention (7 is free; 0 disables Performance Insights)."
  default     = 7

  validation {
    condition     = var.performance_insights_retention_days == 0 || var.performance_insights_retention_days == 7 || (var.performance_insights_retention_days % 31 == 0 && var.performance_insights_retention_days <= 731)
    error_message = "performance_insights_retention_days must be 0, 7, or a multiple of 31 up to 731."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the database."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Isolated database subnets, in at least two AZs."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs subnets in at least two AZs."
  }
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect on 5432 (the EKS cluster security group)."

  validation {
    condition     = length(var.allowed_security_group_ids) > 0 && alltrue([for s in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "allowed_security_group_ids must list at least one security group ID."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every resource."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) > 0 && length(k) <= 128 && length(v) <= 256])
    error_message = "tag keys must be 1-128 characters and values at most 256."
  }
}

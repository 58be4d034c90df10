variable "replication_group_id" {
  type        = string
  description = "ElastiCache replication group ID and name prefix, e.g. sluice-prod."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,38}[a-z0-9]$", var.replication_group_id)) && !strcontains(var.replication_group_id, "--")
    error_message = "replication_group_id must be 2-40 lower-case letters, digits and single dashes, starting with a letter."
  }
}

variable "engine_version" {
  type        = string
  description = "Redis OSS engine version (Bull 4 needs Redis >= 5; 7.1 recommended)."
  default     = "7.1"

  validation {
    condition     = can(regex("^(6\\.2|7\\.[0-9]+)$", var.engine_version))
    error_message = "engine_version must be 6.2 or 7.x."
  }
}

variable "node_type" {
  type        = string
  description = "Node type, e.g. cache.r7g.large. Size memory for BACKLOG_LIMIT_EVENTS (about 1.2 KB per waiting event) plus headroom."

  validation {
    condition     = can(regex("^cache\\.[a-z0-9]+\\.[a-z0-9]+$", var.node_type))
    error_message = "node_type must look like cache.<family>.<size>."
  }
}

variable "num_cache_clusters" {
  type        = number
  description = "Nodes in the replication group: 1 primary plus replicas. 2 or more enables Multi-AZ automatic failover."
  default     = 2

  validation {
    condition     = var.num_cache_clusters >= 1 && var.num_cache_clusters <= 6
    error_message = "num_cache_clusters must be 1-6."
  }
}

variable "snapshot_retention_days" {
  type        = number
  description = "Days of daily snapshots kept (0 disables snapshots)."
  default     = 7

  validation {
    condition     = var.snapshot_retention_days >= 0 && var.snapshot_retention_days <= 35
    error_message = "snapshot_retention_days must be 0-35."
  }
}

variable "snapshot_window" {
  type        = string
  description = "Daily snapshot window (UTC, hh24:mi-hh24:mi, at least 60 minutes)."
  default     = "01:00-02:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$", var.snapshot_window))
    error_message = "snapshot_window must be hh24:mi-hh24:mi."
  }
}

variable "maintenance_window" {
  type        = string
  description = "Weekly maintenance window (UTC, ddd:hh24:mi-ddd:hh24:mi)."
  default     = "sun:04:30-sun:05:30"

  validation {
    condition     = can(regex("^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$", var.maintenance_window))
    error_message = "maintenance_window must be ddd:hh24:mi-ddd:hh24:mi."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cache."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Isolated cache subnets, in at least two AZs."

  validation {
    condition     = length(var.subnet_ids) >= 2
    error_message = "subnet_ids needs subnets in at least two AZs."
  }
}

variable "allowed_security_group_ids" {
  type        = list(string)
  description = "Security groups allowed to connect on 6379 (the EKS cluster security group)."

  validation {
    condition     = length(var.allowed_security_group_ids) > 0 && alltrue([for s in var.allowed_security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "allowed_security_group_ids must list at least one security group ID."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the Redis slow log in CloudWatch Logs."
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value up to 365."
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

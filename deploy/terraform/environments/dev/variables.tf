variable "region" {
  type        = string
  description = "AWS region of the environment."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be an AWS region code such as eu-west-1."
  }
}

variable "azs" {
  type        = list(string)
  description = "Availability zones (two are enough for dev)."

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 4
    error_message = "azs must list 2 to 4 availability zones."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "CIDR of the environment's VPC."
  default     = "10.30.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a valid IPv4 CIDR."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "EKS Kubernetes minor version."
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.[0-9]{2}$", var.kubernetes_version))
    error_message = "kubernetes_version must look like 1.33."
  }
}

variable "endpoint_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the EKS API endpoint (office VPN, CI runners); empty for private only."
  default     = []

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0))])
    error_message = "endpoint_public_access_cidrs must be valid CIDRs."
  }
}

variable "admin_principal_arns" {
  type        = list(string)
  description = "IAM roles with cluster-admin (developers' SSO role, the deploy role of .github/workflows/deploy.yml)."

  validation {
    condition     = length(var.admin_principal_arns) > 0
    error_message = "at least one admin principal is needed, or nobody can reach the cluster."
  }
}

variable "node_instance_types" {
  type        = list(string)
  description = "Instance types of the general node group."
  default     = ["m7g.large"]

  validation {
    condition     = length(var.node_instance_types) > 0
    error_message = "node_instance_types must not be empty."
  }
}

variable "node_min_size" {
  type        = number
  description = "Minimum nodes."
  default     = 2

  validation {
    condition     = var.node_min_size >= 1
    error_message = "node_min_size must be at least 1."
  }
}

variable "node_max_size" {
  type        = number
  description = "Maximum nodes the autoscaler may add."
  default     = 4

  validation {
    condition     = var.node_max_size >= 1 && var.node_max_size <= 20
    error_message = "node_max_size must be 1-20."
  }
}

variable "db_instance_class" {
  type        = string
  description = "RDS instance class."
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.", var.db_instance_class))
    error_message = "db_instance_class must start with db."
  }
}

variable "db_allocated_storage_gib" {
  type        = number
  description = "Initial database storage in GiB (>= 400 enables provisioned gp3 IOPS)."
  default     = 50

  validation {
    condition     = var.db_allocated_storage_gib >= 20
    error_message = "db_allocated_storage_gib must be at least 20."
  }
}

variable "db_iops" {
  type        = number
  description = "Provisioned gp3 IOPS of the database."
  default     = 3000

  validation {
    condition     = var.db_iops >= 3000 && var.db_iops <= 64000
    error_message = "db_iops must be 3000-64000."
  }
}

variable "db_read_replica_count" {
  type        = number
  description = "Read replicas of PostgreSQL for the query API (0 or 1); with one, the secret gets DATABASE_READ_URL and the Helm values readReplica.enabled."
  default     = 0

  validation {
    condition     = var.db_read_replica_count == 0 || var.db_read_replica_count == 1
    error_message = "db_read_replica_count must be 0 or 1."
  }
}

variable "redis_node_type" {
  type        = string
  description = "ElastiCache node type."
  default     = "cache.t4g.small"

  validation {
    condition     = can(regex("^cache\\.", var.redis_node_type))
    error_message = "redis_node_type must start with cache."
  }
}

variable "image_repository" {
  type        = string
  description = "Container image repository of Sluice (ECR), written into the Helm values."

  validation {
    condition     = can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com/[a-z0-9._/-]+$", var.image_repository))
    error_message = "image_repository must be an ECR repository URL."
  }
}

variable "ingress_host" {
  type        = string
  description = "Public host name of the ingestion API, e.g. events.example.com."

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$", var.ingress_host))
    error_message = "ingress_host must be a DNS name."
  }
}

variable "pagerduty_routing_key" {
  type        = string
  description = "PagerDuty Events v2 routing key for pages (usually empty in dev: pages go to Slack)."
  default     = ""
  sensitive   = true

  validation {
    condition     = length(var.pagerduty_routing_key) == 0 || length(var.pagerduty_routing_key) == 32
    error_message = "pagerduty_routing_key must be empty or a 32-character routing key."
  }
}

variable "slack_webhook_url" {
  type        = string
  description = "Slack incoming webhook for alerts."
  sensitive   = true

  validation {
    condition     = startswith(var.slack_webhook_url, "https://hooks.slack.com/")
    error_message = "slack_webhook_url must be a Slack incoming webhook URL."
  }
}

variable "runbook_base_url" {
  type        = string
  description = "Base URL of the repository for runbook links in alerts."
  default     = "https://github.com/sluice/sluice/blob/main/"

  validation {
    condition     = can(regex("^https://.+/$", var.runbook_base_url))
    error_message = "runbook_base_url must be an https URL ending in /."
  }
}

variable "extra_tags" {
  type        = map(string)
  description = "Tags added to every resource besides project, environment and managed-by (cost center, owner)."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.extra_tags : length(k) > 0 && length(v) <= 256])
    error_message = "tag keys must not be empty and values at most 256 characters."
  }
}

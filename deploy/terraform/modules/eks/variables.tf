variable "cluster_name" {
  type        = string
  description = "Name of the EKS cluster."

  validation {
    condition     = can(regex("^[a-zA-Z][a-zA-Z0-9-]{0,99}$", var.cluster_name))
    error_message = "cluster_name must start with a letter and contain only letters, digits and dashes (max 100)."
  }
}

variable "kubernetes_version" {
  type        = string
  description = "Kubernetes minor version of the control plane and node groups, e.g. 1.33."
  default     = "1.33"

  validation {
    condition     = can(regex("^1\\.(2[7-9]|3[0-9])$", var.kubernetes_version))
    error_message = "kubernetes_version must be a minor version between 1.27 and 1.39 (the chart needs >= 1.27)."
  }
}

variable "vpc_id" {
  type        = string
  description = "VPC of the cluster."

  validation {
    condition     = can(regex("^vpc-[0-9a-f]+$", var.vpc_id))
    error_message = "vpc_id must be a VPC ID (vpc-...)."
  }
}

variable "subnet_ids" {
  type        = list(string)
  description = "Private subnets for the control plane ENIs and the nodes (one per AZ)."

  validation {
    condition     = length(var.subnet_ids) >= 2 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must list at least two subnet IDs (subnet-...)."
  }
}

variable "endpoint_public_access_cidrs" {
  type        = list(string)
  description = "CIDRs allowed to reach the public API endpoint; an empty list makes the endpoint private only."
  default     = []

  validation {
    condition     = alltrue([for c in var.endpoint_public_access_cidrs : can(cidrhost(c, 0)) && c != "0.0.0.0/0"])
    error_message = "endpoint_public_access_cidrs must be valid CIDRs, and not 0.0.0.0/0."
  }
}

variable "node_groups" {
  type = map(object({
    instance_types = list(string)
    capacity_type  = optional(string, "ON_DEMAND")
    min_size       = number
    max_size       = number
    desired_size   = number
    disk_size_gib  = optional(number, 50)
    labels         = optional(map(string), {})
  }))
  description = "Managed node groups by name. Each spans every subnet in subnet_ids, so pods can spread across zones."

  validation {
    condition = length(var.node_groups) > 0 && alltrue([
      for name, g in var.node_groups :
      g.min_size >= 0 && g.min_size <= g.desired_size && g.desired_size <= g.max_size && length(g.instance_types) > 0
      && contains(["ON_DEMAND", "SPOT"], g.capacity_type) && g.disk_size_gib >= 20
    ])
    error_message = "each node group needs instance types, 0 <= min_size <= desired_size <= max_size, capacity_type ON_DEMAND or SPOT, and disk_size_gib >= 20."
  }
}

variable "cluster_log_types" {
  type        = list(string)
  description = "Control plane logs sent to CloudWatch."
  default     = ["api", "audit", "authenticator"]

  validation {
    condition     = alltrue([for t in var.cluster_log_types : contains(["api", "audit", "authenticator", "controllerManager", "scheduler"], t)])
    error_message = "cluster_log_types may contain api, audit, authenticator, controllerManager and scheduler."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the control plane logs in days."
  default     = 90

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs retention value."
  }
}

variable "admin_principal_arns" {
  type        = list(string)
  description = "IAM roles or users granted cluster-admin through EKS access entries (e.g. the platform team's SSO role, the CI deploy role)."
  default     = []

  validation {
    condition     = alltrue([for a in var.admin_principal_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)/.+$", a))])
    error_message = "admin_principal_arns must be IAM role or user ARNs."
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

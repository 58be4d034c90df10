variable "name" {
  type        = string
  description = "Name prefix of every resource, e.g. sluice-prod."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}[a-z0-9]$", var.name))
    error_message = "name must be 3-32 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "cidr" {
  type        = string
  description = "IPv4 CIDR of the VPC; carved into public, private (EKS), database and cache subnets per AZ."

  validation {
    condition     = can(cidrhost(var.cidr, 0)) && tonumber(split("/", var.cidr)[1]) <= 20
    error_message = "cidr must be a valid IPv4 CIDR of /20 or larger."
  }
}

variable "azs" {
  type        = list(string)
  description = "Availability zones to spread subnets across (at least 2; 3 recommended for Multi-AZ RDS and ElastiCache)."

  validation {
    condition     = length(var.azs) >= 2 && length(var.azs) <= 4 && length(distinct(var.azs)) == length(var.azs)
    error_message = "azs must list 2 to 4 distinct availability zones."
  }
}

variable "cluster_name" {
  type        = string
  description = "EKS cluster name, used for the kubernetes.io/cluster/<name> subnet tags that let the load balancer controller find subnets."

  validation {
    condition     = length(var.cluster_name) > 0 && length(var.cluster_name) <= 100
    error_message = "cluster_name must be 1-100 characters."
  }
}

variable "single_nat_gateway" {
  type        = bool
  description = "One NAT gateway for all AZs (cheaper, for dev) instead of one per AZ (survives an AZ outage)."
  default     = false
}

variable "flow_logs_retention_days" {
  type        = number
  description = "Retention of VPC flow logs in CloudWatch Logs, in days (0 disables flow logs)."
  default     = 30

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1827, 3653], var.flow_logs_retention_days)
    error_message = "flow_logs_retention_days must be 0 or a CloudWatch Logs retention value (1, 3, 5, 7, 14, 30, 60, 90, ...)."
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

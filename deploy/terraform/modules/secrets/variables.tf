variable "name" {
  type        = string
  description = "Name of the AWS Secrets Manager secret holding the app's secrets as JSON, e.g. sluice/prod/app (Helm value externalSecret.remoteKey)."

  validation {
    condition     = can(regex("^[A-Za-z0-9/_+=.@-]{1,512}$", var.name))
    error_message = "name may contain letters, digits and /_+=.@- only."
  }
}

variable "database_url" {
  type        = string
  description = "DATABASE_URL of the app (from the rds module)."
  sensitive   = true

  validation {
    condition     = can(regex("^postgres(ql)?://", var.database_url))
    error_message = "database_url must be a postgres:// URL."
  }
}

variable "database_read_url" {
  type        = string
  description = "DATABASE_READ_URL of the query API (the read replica, from the rds module), or null without a replica."
  sensitive   = true
  default     = null

  validation {
    condition     = var.database_read_url == null || can(regex("^postgres(ql)?://", var.database_read_url))
    error_message = "database_read_url must be null or a postgres:// URL."
  }
}

variable "redis_url" {
  type        = string
  description = "REDIS_URL of the app (from the elasticache module); rediss:// for TLS."
  sensitive   = true

  validation {
    condition     = can(regex("^rediss?://", var.redis_url))
    error_message = "redis_url must be a redis:// or rediss:// URL."
  }
}

variable "redis_password" {
  type        = string
  description = "Redis AUTH token, stored as REDIS_PASSWORD for KEDA's TriggerAuthentication."
  sensitive   = true

  validation {
    condition     = length(var.redis_password) == 0 || (length(var.redis_password) >= 16 && length(var.redis_password) <= 128)
    error_message = "redis_password must be empty or 16-128 characters (ElastiCache AUTH token rules)."
  }
}

variable "recovery_window_days" {
  type        = number
  description = "Days a deleted secret can still be restored."
  default     = 30

  validation {
    condition     = var.recovery_window_days == 0 || (var.recovery_window_days >= 7 && var.recovery_window_days <= 30)
    error_message = "recovery_window_days must be 0 (immediate deletion) or 7-30."
  }
}

variable "oidc_provider_arn" {
  type        = string
  description = "IAM OIDC provider of the EKS cluster (from the eks module), for the IRSA roles."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:oidc-provider/.+$", var.oidc_provider_arn))
    error_message = "oidc_provider_arn must be an IAM OIDC provider ARN."
  }
}

variable "oidc_issuer" {
  type        = string
  description = "OIDC issuer without https:// (from the eks module)."

  validation {
    condition     = !startswith(var.oidc_issuer, "https://") && length(var.oidc_issuer) > 0
    error_message = "oidc_issuer must be the issuer host and path, without https://."
  }
}

variable "app_service_accounts" {
  type        = list(string)
  description = "Service accounts (namespace:name) of Sluice that may read the secret (IRSA role annotated through the Helm value serviceAccount.irsaRoleArn)."
  default     = ["sluice:sluice"]

  validation {
    condition     = length(var.app_service_accounts) > 0 && alltrue([for s in var.app_service_accounts : can(regex("^[a-z0-9-]+:[a-z0-9.-]+$", s))])
    error_message = "app_service_accounts entries must be namespace:name."
  }
}

variable "external_secrets_service_account" {
  type        = string
  description = "Service account (namespace:name) of the External Secrets Operator controller, which reads the secret for the ClusterSecretStore."
  default     = "external-secrets:external-secrets"

  validation {
    condition     = can(regex("^[a-z0-9-]+:[a-z0-9.-]+$", var.external_secrets_service_account))
    error_message = "external_secrets_service_account must be namespace:name."
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

variable "namespace" {
  type        = string
  description = "Namespace of the monitoring stack (the Helm chart's networkPolicy.prometheus selector expects \"monitoring\")."
  default     = "monitoring"

  validation {
    condition     = can(regex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", var.namespace)) && length(var.namespace) <= 63
    error_message = "namespace must be a Kubernetes namespace name."
  }
}

variable "chart_version" {
  type        = string
  description = "Version of the prometheus-community kube-prometheus-stack chart."
  default     = "77.0.0"

  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.chart_version))
    error_message = "chart_version must be a semantic version."
  }
}

variable "environment" {
  type        = string
  description = "Environment name, added to every alert as the label env."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "environment must be dev, staging or prod."
  }
}

variable "retention" {
  type        = string
  description = "How long Prometheus keeps samples (at least 30d so the 30-day SLO window is computable)."
  default     = "35d"

  validation {
    condition     = can(regex("^[0-9]+d$", var.retention)) && tonumber(trimsuffix(var.retention, "d")) >= 30
    error_message = "retention must be given in days and be at least 30d."
  }
}

variable "storage_size" {
  type        = string
  description = "Persistent volume size of each Prometheus replica."
  default     = "100Gi"

  validation {
    condition     = can(regex("^[0-9]+(Gi|Ti)$", var.storage_size))
    error_message = "storage_size must be a quantity in Gi or Ti."
  }
}

variable "storage_class" {
  type        = string
  description = "StorageClass of the Prometheus and Alertmanager volumes."
  default     = "gp3"

  validation {
    condition     = length(var.storage_class) > 0
    error_message = "storage_class must not be empty."
  }
}

variable "prometheus_replicas" {
  type        = number
  description = "Prometheus replicas (2 for HA in prod; Alertmanager deduplicates)."
  default     = 2

  validation {
    condition     = var.prometheus_replicas >= 1 && var.prometheus_replicas <= 3
    error_message = "prometheus_replicas must be 1-3."
  }
}

variable "rules_file" {
  type        = string
  description = "Path of the Prometheus rule file with the Sluice alerts (deploy/monitoring/alerts/sluice.rules.yaml)."

  validation {
    condition     = can(regex("\\.ya?ml$", var.rules_file))
    error_message = "rules_file must be a YAML file."
  }
}

variable "dashboards_dir" {
  type        = string
  description = "Directory of Grafana dashboard JSON files to provision (deploy/monitoring/dashboards)."

  validation {
    condition     = length(var.dashboards_dir) > 0
    error_message = "dashboards_dir must not be empty."
  }
}

variable "runbook_base_url" {
  type        = string
  description = "Base URL that replaces https://github.com/sluice/sluice/blob/main/ in runbook_url annotations (your fork or docs site)."
  default     = "https://github.com/sluice/sluice/blob/main/"

  validation {
    condition     = can(regex("^https://.+/$", var.runbook_base_url))
    error_message = "runbook_base_url must be an https URL ending in /."
  }
}

variable "pagerduty_routing_key" {
  type        = string
  description = "PagerDuty Events v2 routing key for severity=page alerts (empty: pages go to Slack only)."
  default     = ""
  sensitive   = true

  validation {
    condition     = length(var.pagerduty_routing_key) == 0 || length(var.pagerduty_routing_key) == 32
    error_message = "pagerduty_routing_key must be empty or a 32-character routing key."
  }
}

variable "slack_webhook_url" {
  type        = string
  description = "Slack incoming webhook for tickets and info alerts (and pages as a copy)."
  sensitive   = true

  validation {
    condition     = startswith(var.slack_webhook_url, "https://hooks.slack.com/")
    error_message = "slack_webhook_url must be a Slack incoming webhook URL."
  }
}

variable "slack_channel" {
  type        = string
  description = "Slack channel for alerts, e.g. #sluice-alerts."

  validation {
    condition     = startswith(var.slack_channel, "#")
    error_message = "slack_channel must start with #."
  }
}

output "namespace" {
  description = "Namespace of the monitoring stack."
  value       = kubernetes_namespace_v1.monitoring.metadata[0].name
}

output "grafana_admin_password" {
  description = "Initial Grafana admin password."
  value       = random_password.grafana_admin.result
  sensitive   = true
}

output "alert_names" {
  description = "Alerts loaded from the rules file."
  value       = flatten([for g in local.rules.groups : [for r in g.rules : r.alert if can(r.alert)]])
}

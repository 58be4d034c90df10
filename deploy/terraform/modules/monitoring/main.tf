# kube-prometheus-stack (Prometheus operator, Prometheus, Alertmanager, Grafana, node exporter,
# kube-state-metrics) with the Sluice alert rules and dashboard loaded from deploy/monitoring/,
# and alert routing: severity=page to PagerDuty (and Slack), everything else to Slack.

locals {
  rules = yamldecode(replace(file(var.rules_file), "https://github.com/sluice/sluice/blob/main/", var.runbook_base_url))

  page_receivers = var.pagerduty_routing_key == "" ? [] : [{
    name = "pagerduty"
    pagerduty_configs = [{
      routing_key = var.pagerduty_routing_key
      severity    = "critical"
      description = "{{ .CommonAnnotations.summary }}"
      links       = [{ href = "{{ .CommonAnnotations.runbook_url }}", text = "Runbook" }]
    }]
  }]

  alertmanager_config = {
    global = { resolve_timeout = "5m" }
    route = {
      receiver        = "slack"
      group_by        = ["alertname", "namespace", "env"]
      group_wait      = "30s"
      group_interval  = "5m"
      repeat_interval = "4h"
      routes = concat(
        var.pagerduty_routing_key == "" ? [] : [{
          receiver = "pagerduty"
          matchers = ["severity=\"page\""]
          continue = true
        }],
        [
          { receiver = "slack", matchers = ["severity=~\"page|ticket\""] },
          { receiver = "slack", matchers = ["severity=\"info\""], repeat_interval = "24h" },
          { receiver = "null", matchers = ["alertname=\"Watchdog\""] },
        ],
      )
    }
    inhibit_rules = [{
      source_matchers = ["severity=\"page\""]
      target_matchers = ["severity=~\"ticket|info\""]
      equal           = ["alertname", "namespace"]
    }]
    receivers = concat(local.page_receivers, [
      {
        name = "slack"
        slack_configs = [{
          api_url       = var.slack_webhook_url
          channel       = var.slack_channel
          send_resolved = true
          title         = "[{{ .Status | toUpper }}] {{ .CommonLabels.alertname }} ({{ .CommonLabels.env }})"
          text          = "{{ range .Alerts }}*{{ .Annotations.summary }}*\n{{ .Annotations.description }}\nRunbook: {{ .Annotations.runbook_url }}\n{{ end }}"
        }]
      },
      { name = "null" },
    ])
  }
}

resource "kubernetes_namespace_v1" "monitoring" {
  metadata {
    name = var.namespace
    labels = {
      "kubernetes.io/metadata.name" = var.namespace
    }
  }
}

resource "random_password" "grafana_admin" {
  length  = 32
  special = false
}

resource "helm_release" "kube_prometheus_stack" {
  name       = "kube-prometheus-stack"
  namespace  = kubernetes_namespace_v1.monitoring.metadata[0].name
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "kube-prometheus-stack"
  version    = var.chart_version
  timeout    = 900
  atomic     = true

  values = [yamlencode({
    commonLabels = { env = var.environment }
    prometheus = {
      prometheusSpec = {
        replicas       = var.prometheus_replicas
        retention      = var.retention
        externalLabels = { env = var.environment }
        # Pick up every ServiceMonitor / PrometheusRule, not only this release's.
        serviceMonitorSelectorNilUsesHelmValues = false
        podMonitorSelectorNilUsesHelmValues     = false
        ruleSelectorNilUsesHelmValues           = false
        storageSpec = {
          volumeClaimTemplate = {
            spec = {
              storageClassName = var.storage_class
              accessModes      = ["ReadWriteOnce"]
              resources        = { requests = { storage = var.storage_size } }
            }
          }
        }
        resources = {
          requests = { cpu = "500m", memory = "2Gi" }
          limits   = { memory = "4Gi" }
        }
      }
    }
    alertmanager = {
      config = local.alertmanager_config
      alertmanagerSpec = {
        replicas = var.prometheus_replicas
        storage = {
          volumeClaimTemplate = {
            spec = {
              storageClassName = var.storage_class
              accessModes      = ["ReadWriteOnce"]
              resources        = { requests = { storage = "10Gi" } }
            }
          }
        }
      }
    }
    additionalPrometheusRulesMap = {
      sluice = local.rules
    }
    grafana = {
      adminPassword = random_password.grafana_admin.result
      sidecar = {
        dashboards = {
          enabled          = true
          label            = "grafana_dashboard"
          labelValue       = "1"
          searchNamespace  = "ALL"
          folderAnnotation = "grafana_folder"
          provider         = { foldersFromFilesStructure = true }
        }
      }
    }
  })]
}

resource "kubernetes_config_map_v1" "dashboards" {
  for_each = fileset(var.dashboards_dir, "*.json")

  metadata {
    name      = "grafana-dashboard-${trimsuffix(each.value, ".json")}"
    namespace = kubernetes_namespace_v1.monitoring.metadata[0].name
    labels = {
      grafana_dashboard = "1"
    }
    annotations = {
      grafana_folder = "Sluice"
    }
  }

  data = {
    (each.value) = file("${var.dashboards_dir}/${each.value}")
  }
}

locals {
  # Infrastructure-derived Helm values of the Sluice chart. `terraform output -raw helm_values`
  # writes deploy/argocd/dev/values-infra.yaml (docs/deployment.md); deploy/check verifies
  # that every key here exists in deploy/helm/sluice/values.yaml.
  helm_values = {
    image = {
      repository = var.image_repository
    }
    serviceAccount = {
      irsaRoleArn = module.secrets.app_role_arn
    }
    externalSecret = {
      enabled   = true
      remoteKey = module.secrets.secret_name
      secretStoreRef = {
        kind = "ClusterSecretStore"
        name = "aws-secrets-manager"
      }
    }
    config = {
      # RDS enforces TLS; verify the server certificate and host name against the RDS CAs.
      DATABASE_SSL = "verify-full"
      # ElastiCache has no append-only file: a 200 waits until replicas have the events. WAIT for
      # all replicas but one (at least one): ElastiCache promotes the replica with the least
      # replication lag, which then holds every acknowledged write, and one replica that is down
      # or still resyncing after a failover does not turn every enqueue into a 503.
      REDIS_DURABILITY    = "replicas"
      REDIS_WAIT_REPLICAS = max(1, module.elasticache.replica_count - 1)
      # The api believes X-Forwarded-For only from the ingress controller's pods: with the VPC
      # CNI they take their addresses from the private subnets (not the whole VPC: nothing in the
      # public, database or cache subnets is a proxy of Sluice).
      TRUST_PROXY = join(",", module.vpc.private_subnet_cidrs)
    }
    databaseCa = {
      pem = data.http.rds_ca_bundle.response_body
    }
    # The api reads DATABASE_READ_URL (the secrets module writes it) exactly when the replica exists.
    readReplica = {
      enabled = module.rds.read_replica_count > 0
    }
    api = {
      ingress = {
        enabled   = true
        className = "nginx"
        hosts = [{
          host  = var.ingress_host
          paths = [{ path = "/v1", pathType = "Prefix" }, { path = "/docs", pathType = "Prefix" }]
        }]
        tls = [{ secretName = "sluice-events-tls", hosts = [var.ingress_host] }]
      }
    }
    worker = {
      keda = {
        enabled = true
        redis = {
          address           = module.elasticache.address
          enableTLS         = true
          passwordSecretKey = "REDIS_PASSWORD"
        }
      }
    }
    networkPolicy = {
      postgres = {
        cidrs = module.vpc.database_subnet_cidrs
        port  = module.rds.port
      }
      redis = {
        cidrs = module.vpc.cache_subnet_cidrs
        port  = module.elasticache.port
      }
    }
    metrics = {
      serviceMonitor = {
        enabled = true
      }
    }
  }
}

output "helm_values" {
  description = "Infrastructure-derived values for the Sluice Helm chart (YAML), for deploy/argocd/dev/values-infra.yaml."
  value       = yamlencode(local.helm_values)

  precondition {
    condition     = module.elasticache.replica_count >= 1
    error_message = "REDIS_DURABILITY=replicas needs at least one ElastiCache replica (num_cache_clusters >= 2)."
  }
}

output "cluster_name" {
  description = "EKS cluster name (aws eks update-kubeconfig --name ...)."
  value       = module.eks.cluster_name
}

output "database_address" {
  description = "PostgreSQL primary host name."
  value       = module.rds.address
}

output "database_replica_address" {
  description = "PostgreSQL read replica host name, or null."
  value       = module.rds.replica_address
}

output "database_subnet_group" {
  description = "DB subnet group name (point-in-time restores)."
  value       = module.rds.subnet_group_name
}

output "database_parameter_group" {
  description = "DB parameter group name (point-in-time restores)."
  value       = module.rds.parameter_group_name
}

output "database_security_group_id" {
  description = "Security group of the database (point-in-time restores)."
  value       = module.rds.security_group_id
}

output "redis_address" {
  description = "Redis primary endpoint host:port."
  value       = module.elasticache.address
}

output "secret_name" {
  description = "Secrets Manager secret with the app's secrets."
  value       = module.secrets.secret_name
}

output "grafana_admin_password" {
  description = "Initial Grafana admin password."
  value       = module.monitoring.grafana_admin_password
  sensitive   = true
}

# Production: three AZs, Multi-AZ PostgreSQL with a read replica, Redis with a replica and
# automatic failover, NAT per AZ, pages to PagerDuty.

locals {
  environment = "prod"
  name        = "sluice-prod"
  namespace   = "sluice"

  tags = merge(var.extra_tags, {
    project     = "sluice"
    environment = local.environment
    managed-by  = "terraform"
  })
}

module "vpc" {
  source = "../../modules/vpc"

  name                     = local.name
  cidr                     = var.vpc_cidr
  azs                      = var.azs
  cluster_name             = local.name
  single_nat_gateway       = false
  flow_logs_retention_days = 90
  tags                     = local.tags
}

module "eks" {
  source = "../../modules/eks"

  cluster_name                 = local.name
  kubernetes_version           = var.kubernetes_version
  vpc_id                       = module.vpc.vpc_id
  subnet_ids                   = module.vpc.private_subnet_ids
  endpoint_public_access_cidrs = var.endpoint_public_access_cidrs
  admin_principal_arns         = var.admin_principal_arns
  log_retention_days           = 90
  tags                         = local.tags

  node_groups = {
    general = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_min_size
      disk_size_gib  = 80
    }
  }
}

module "rds" {
  source = "../../modules/rds"

  identifier                 = local.name
  instance_class             = var.db_instance_class
  allocated_storage_gib      = var.db_allocated_storage_gib
  max_allocated_storage_gib  = 4000
  iops                       = var.db_iops
  storage_throughput_mibps   = 500
  multi_az                   = true
  backup_retention_days      = 14
  deletion_protection        = true
  read_replica_count         = var.db_read_replica_count
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.database_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  tags                       = local.tags
}

module "elasticache" {
  source = "../../modules/elasticache"

  replication_group_id       = local.name
  node_type                  = var.redis_node_type
  num_cache_clusters         = 3
  snapshot_retention_days    = 7
  vpc_id                     = module.vpc.vpc_id
  subnet_ids                 = module.vpc.cache_subnet_ids
  allowed_security_group_ids = [module.eks.cluster_security_group_id]
  tags                       = local.tags
}

module "secrets" {
  source = "../../modules/secrets"

  name                 = "sluice/${local.environment}/app"
  database_url         = module.rds.database_url
  database_read_url    = module.rds.database_read_url
  redis_url            = module.elasticache.redis_url
  redis_password       = module.elasticache.auth_token
  oidc_provider_arn    = module.eks.oidc_provider_arn
  oidc_issuer          = module.eks.oidc_issuer
  app_service_accounts = ["${local.namespace}:sluice"]
  tags                 = local.tags
}

module "monitoring" {
  source = "../../modules/monitoring"

  environment           = local.environment
  retention             = "35d"
  storage_size          = "200Gi"
  prometheus_replicas   = 2
  rules_file            = "${path.root}/../../../monitoring/alerts/sluice.rules.yaml"
  dashboards_dir        = "${path.root}/../../../monitoring/dashboards"
  runbook_base_url      = var.runbook_base_url
  pagerduty_routing_key = var.pagerduty_routing_key
  slack_webhook_url     = var.slack_webhook_url
  slack_channel         = "#sluice-alerts"

  depends_on = [module.eks]
}

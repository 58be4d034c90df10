# Development: the same shape as prod at a fraction of the cost: one NAT gateway, single-AZ
# PostgreSQL without replica, the smallest Redis with a replica (REDIS_DURABILITY=replicas needs
# one; it also makes the quarterly failover test possible), short retention, deletable.

locals {
  environment = "dev"
  name        = "sluice-dev"
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
  single_nat_gateway       = true
  flow_logs_retention_days = 14
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
  log_retention_days           = 30
  tags                         = local.tags

  node_groups = {
    general = {
      instance_types = var.node_instance_types
      min_size       = var.node_min_size
      max_size       = var.node_max_size
      desired_size   = var.node_min_size
      disk_size_gib  = 50
    }
  }
}

module "rds" {
  source = "../../modules/rds"

  identifier                 = local.name
  instance_class             = var.db_instance_class
  allocated_storage_gib      = var.db_allocated_storage_gib
  max_allocated_storage_gib  = 200
  iops                       = var.db_iops
  storage_throughput_mibps   = 125
  multi_az                   = false
  backup_retention_days      = 3
  deletion_protection        = false
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
  num_cache_clusters         = 2
  snapshot_retention_days    = 1
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
  retention             = "30d"
  storage_size          = "50Gi"
  prometheus_replicas   = 1
  rules_file            = "${path.root}/../../../monitoring/alerts/sluice.rules.yaml"
  dashboards_dir        = "${path.root}/../../../monitoring/dashboards"
  runbook_base_url      = var.runbook_base_url
  pagerduty_routing_key = var.pagerduty_routing_key
  slack_webhook_url     = var.slack_webhook_url
  slack_channel         = "#sluice-alerts-dev"

  depends_on = [module.eks]
}

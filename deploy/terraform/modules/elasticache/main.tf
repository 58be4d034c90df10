# Redis for the Bull queue: TLS in transit, AUTH token, KMS encryption at rest, a replica in
# another AZ with automatic failover, daily snapshots, and `maxmemory-policy noeviction`:
# Bull must never lose keys, so a full Redis refuses writes (the api answers 503) instead of
# evicting queued jobs.
#
# Append-only file: ElastiCache for Redis OSS does not offer AOF on current engine versions, so
# Sluice runs with REDIS_DURABILITY=replicas here: after each enqueue the api sends
# `WAIT <REDIS_WAIT_REPLICAS> <REDIS_WAIT_TIMEOUT_MS>` and answers 503 unless enough replicas
# acknowledged, so a 200 survives the loss of the primary (the environments derive
# REDIS_WAIT_REPLICAS from the replica_count output). docker-compose.yml runs Redis with
# appendonly yes and appendfsync always instead (REDIS_DURABILITY=fsync). See
# docs/runbooks/redis-failover.md and docs/deployment.md (Redis durability).

locals {
  family   = "redis${split(".", var.engine_version)[0]}"
  failover = var.num_cache_clusters > 1
}

resource "aws_kms_key" "redis" {
  description             = "${var.replication_group_id} ElastiCache at-rest encryption"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  tags                    = var.tags
}

resource "aws_kms_alias" "redis" {
  name          = "alias/${var.replication_group_id}-redis"
  target_key_id = aws_kms_key.redis.key_id
}

# ElastiCache AUTH tokens: 16-128 printable characters without @, " or /.
resource "random_password" "auth" {
  length  = 64
  special = false
}

resource "aws_elasticache_subnet_group" "this" {
  name       = var.replication_group_id
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "redis" {
  name        = "${var.replication_group_id}-redis"
  description = "Redis for ${var.replication_group_id}: 6379 from the EKS cluster only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.replication_group_id}-redis" })
}

resource "aws_vpc_security_group_ingress_rule" "redis" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.redis.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 6379
  to_port                      = 6379
  description                  = "Redis from ${each.value}"
}

resource "aws_elasticache_parameter_group" "this" {
  name        = "${var.replication_group_id}-${local.family}"
  family      = local.family
  description = "Bull queue settings for ${var.replication_group_id}"

  # Never evict: Bull's job hashes, lists and locks must all survive memory pressure.
  parameter {
    name  = "maxmemory-policy"
    value = "noeviction"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_cloudwatch_log_group" "slow_log" {
  name              = "/aws/elasticache/${var.replication_group_id}/slow-log"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_elasticache_replication_group" "this" {
  replication_group_id = var.replication_group_id
  description          = "Sluice Bull queue (${var.replication_group_id})"

  engine               = "redis"
  engine_version       = var.engine_version
  node_type            = var.node_type
  num_cache_clusters   = var.num_cache_clusters
  port                 = 6379
  parameter_group_name = aws_elasticache_parameter_group.this.name

  subnet_group_name  = aws_elasticache_subnet_group.this.name
  security_group_ids = [aws_security_group.redis.id]

  automatic_failover_enabled = local.failover
  multi_az_enabled           = local.failover

  transit_encryption_enabled = true
  transit_encryption_mode    = "required"
  auth_token                 = random_password.auth.result
  auth_token_update_strategy = "ROTATE"
  at_rest_encryption_enabled = true
  kms_key_id                 = aws_kms_key.redis.arn

  snapshot_retention_limit   = var.snapshot_retention_days
  snapshot_window            = var.snapshot_window
  maintenance_window         = var.maintenance_window
  auto_minor_version_upgrade = true
  apply_immediately          = false

  log_delivery_configuration {
    destination      = aws_cloudwatch_log_group.slow_log.name
    destination_type = "cloudwatch-logs"
    log_format       = "json"
    log_type         = "slow-log"
  }

  tags = var.tags
}

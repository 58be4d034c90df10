# PostgreSQL for Sluice: Multi-AZ, KMS-encrypted, TLS enforced, automated backups with PITR,
# an optional read replica for the query API (read_replica_count), and a parameter group tuned for sustained ingestion (few, large
# set-based insert transactions; checkpoints spread out; autovacuum keeping up with inserts).

locals {
  major  = split(".", var.engine_version)[0]
  family = "postgres${local.major}"
}

resource "aws_kms_key" "rds" {
  description             = "${var.identifier} RDS storage, backups and Performance Insights"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  tags                    = var.tags
}

resource "aws_kms_alias" "rds" {
  name          = "alias/${var.identifier}-rds"
  target_key_id = aws_kms_key.rds.key_id
}

resource "random_password" "master" {
  length  = 40
  special = false
}

resource "aws_db_subnet_group" "this" {
  name       = var.identifier
  subnet_ids = var.subnet_ids
  tags       = var.tags
}

resource "aws_security_group" "rds" {
  name        = "${var.identifier}-rds"
  description = "PostgreSQL for ${var.identifier}: 5432 from the EKS cluster only"
  vpc_id      = var.vpc_id
  tags        = merge(var.tags, { Name = "${var.identifier}-rds" })
}

resource "aws_vpc_security_group_ingress_rule" "postgres" {
  for_each                     = toset(var.allowed_security_group_ids)
  security_group_id            = aws_security_group.rds.id
  referenced_security_group_id = each.value
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5432
  description                  = "PostgreSQL from ${each.value}"
}

resource "aws_db_parameter_group" "this" {
  name        = "${var.identifier}-pg${local.major}"
  family      = local.family
  description = "Sluice ingestion tuning for ${var.identifier}"

  # TLS only: the app connects with DATABASE_SSL=verify-full against the RDS CA bundle of the
  # region (databaseCa.pem in the Helm values, fetched by the environments).
  parameter {
    name  = "rds.force_ssl"
    value = "1"
  }
  # Durability is not negotiable: an acknowledged event is committed for real.
  parameter {
    name  = "synchronous_commit"
    value = "on"
  }
  # Sustained ingestion checkpoints every ~20 s with the default 1 GB (shared/MEASURED.md).
  parameter {
    name  = "max_wal_size"
    value = "16384" # MB
  }
  parameter {
    name  = "min_wal_size"
    value = "2048" # MB
  }
  parameter {
    name  = "checkpoint_timeout"
    value = "900" # s
  }
  parameter {
    name  = "checkpoint_completion_target"
    value = "0.9"
  }
  parameter {
    name  = "wal_compression"
    value = "lz4"
  }
  # Insert-only tables (events partitions, event_dedup) need autovacuum for visibility maps and
  # freezing, triggered by inserts rather than dead tuples.
  parameter {
    name  = "autovacuum_vacuum_insert_scale_factor"
    value = "0.05"
  }
  parameter {
    name  = "autovacuum_vacuum_scale_factor"
    value = "0.05"
  }
  parameter {
    name  = "autovacuum_vacuum_cost_limit"
    value = "2000"
  }
  parameter {
    name         = "autovacuum_max_workers"
    value        = "5"
    apply_method = "pending-reboot"
  }
  parameter {
    name  = "maintenance_work_mem"
    value = "1048576" # kB
  }
  parameter {
    name  = "random_page_cost"
    value = "1.1"
  }
  parameter {
    name  = "effective_io_concurrency"
    value = "200"
  }
  # A stuck client must not hold locks on event_dedup.
  parameter {
    name  = "idle_in_transaction_session_timeout"
    value = "60000" # ms
  }
  parameter {
    name         = "shared_preload_libraries"
    value        = "pg_stat_statements"
    apply_method = "pending-reboot"
  }
  parameter {
    name  = "track_io_timing"
    value = "1"
  }
  parameter {
    name  = "log_min_duration_statement"
    value = "2000" # ms
  }
  parameter {
    name  = "log_autovacuum_min_duration"
    value = "10000" # ms
  }
  parameter {
    name  = "log_checkpoints"
    value = "1"
  }
  parameter {
    name  = "log_lock_waits"
    value = "1"
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

data "aws_iam_policy_document" "monitoring_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["monitoring.rds.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "monitoring" {
  name               = "${var.identifier}-rds-monitoring"
  assume_role_policy = data.aws_iam_policy_document.monitoring_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "monitoring" {
  role       = aws_iam_role.monitoring.name
  policy_arn = "arn:aws:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole"
}

resource "aws_db_instance" "primary" {
  identifier     = var.identifier
  engine         = "postgres"
  engine_version = var.engine_version
  instance_class = var.instance_class

  db_name  = var.db_name
  username = var.username
  password = random_password.master.result
  port     = 5432

  allocated_storage     = var.allocated_storage_gib
  max_allocated_storage = var.max_allocated_storage_gib
  storage_type          = "gp3"
  iops                  = var.allocated_storage_gib >= 400 ? var.iops : null
  storage_throughput    = var.allocated_storage_gib >= 400 ? var.storage_throughput_mibps : null
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.rds.arn

  multi_az               = var.multi_az
  db_subnet_group_name   = aws_db_subnet_group.this.name
  vpc_security_group_ids = [aws_security_group.rds.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period   = var.backup_retention_days
  backup_window             = var.backup_window
  maintenance_window        = var.maintenance_window
  copy_tags_to_snapshot     = true
  delete_automated_backups  = false
  deletion_protection       = var.deletion_protection
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"

  auto_minor_version_upgrade          = true
  allow_major_version_upgrade         = false
  apply_immediately                   = false
  iam_database_authentication_enabled = true

  performance_insights_enabled          = var.performance_insights_retention_days > 0
  performance_insights_retention_period = var.performance_insights_retention_days > 0 ? var.performance_insights_retention_days : null
  performance_insights_kms_key_id       = var.performance_insights_retention_days > 0 ? aws_kms_key.rds.arn : null
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = ["postgresql", "upgrade"]

  tags = var.tags

  lifecycle {
    ignore_changes = [final_snapshot_identifier]
  }
}

# Read replicas for the query API (DATABASE_READ_URL: event list, receipts, stats). Asynchronous:
# the query API sees new events once the replica has replayed them (CloudWatch ReplicaLag). Same
# class and storage performance as the primary by default: it replays every insert the primary
# commits, and a slower replica only falls further behind.
resource "aws_db_instance" "replica" {
  count = var.read_replica_count

  identifier          = "${var.identifier}-replica"
  replicate_source_db = aws_db_instance.primary.identifier
  instance_class      = coalesce(var.read_replica_instance_class, var.instance_class)

  storage_type          = "gp3"
  max_allocated_storage = var.max_allocated_storage_gib
  iops                  = var.allocated_storage_gib >= 400 ? var.iops : null
  storage_throughput    = var.allocated_storage_gib >= 400 ? var.storage_throughput_mibps : null
  storage_encrypted     = true
  kms_key_id            = aws_kms_key.rds.arn

  # Same-region replica: subnet group, engine, database, user and password come from the primary.
  multi_az               = false
  vpc_security_group_ids = [aws_security_group.rds.id]
  publicly_accessible    = false
  parameter_group_name   = aws_db_parameter_group.this.name
  ca_cert_identifier     = "rds-ca-rsa2048-g1"

  backup_retention_period    = 0
  skip_final_snapshot        = true
  deletion_protection        = var.deletion_protection
  auto_minor_version_upgrade = true
  apply_immediately          = false
  maintenance_window         = var.maintenance_window
  copy_tags_to_snapshot      = true

  performance_insights_enabled          = var.performance_insights_retention_days > 0
  performance_insights_retention_period = var.performance_insights_retention_days > 0 ? var.performance_insights_retention_days : null
  performance_insights_kms_key_id       = var.performance_insights_retention_days > 0 ? aws_kms_key.rds.arn : null
  monitoring_interval                   = 30
  monitoring_role_arn                   = aws_iam_role.monitoring.arn
  enabled_cloudwatch_logs_exports       = ["postgresql"]

  tags = merge(var.tags, { role = "read-replica" })
}

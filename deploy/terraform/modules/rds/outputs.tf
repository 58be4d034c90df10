output "address" {
  description = "Host name of the primary (follows failovers)."
  value       = aws_db_instance.primary.address
}

output "port" {
  description = "PostgreSQL port."
  value       = aws_db_instance.primary.port
}

output "db_name" {
  description = "Database name."
  value       = aws_db_instance.primary.db_name
}

output "username" {
  description = "Master user name."
  value       = aws_db_instance.primary.username
}

output "password" {
  description = "Master password (goes into DATABASE_URL in the secrets module)."
  value       = random_password.master.result
  sensitive   = true
}

output "database_url" {
  description = "DATABASE_URL for Sluice (TLS is enforced by the server; the app connects with DATABASE_SSL=verify-full)."
  value       = "postgres://${aws_db_instance.primary.username}:${random_password.master.result}@${aws_db_instance.primary.address}:${aws_db_instance.primary.port}/${aws_db_instance.primary.db_name}"
  sensitive   = true
}

output "read_replica_count" {
  description = "Number of read replicas (known at plan time: the Helm value readReplica.enabled follows it)."
  value       = length(aws_db_instance.replica)
}

output "replica_address" {
  description = "Host name (endpoint) of the read replica, or null without one."
  value       = one(aws_db_instance.replica[*].address)
}

output "database_read_url" {
  description = "DATABASE_READ_URL for the query API: the read replica with the primary's credentials (replicated with it), TLS as for DATABASE_URL (DATABASE_SSL=verify-full with the RDS CA bundle); null without a replica."
  value       = length(aws_db_instance.replica) == 0 ? null : "postgres://${aws_db_instance.primary.username}:${random_password.master.result}@${aws_db_instance.replica[0].address}:${aws_db_instance.replica[0].port}/${aws_db_instance.primary.db_name}"
  sensitive   = true
}

output "security_group_id" {
  description = "Security group of the database."
  value       = aws_security_group.rds.id
}

output "subnet_group_name" {
  description = "DB subnet group (for point-in-time restores, docs/runbooks/restore.md)."
  value       = aws_db_subnet_group.this.name
}

output "parameter_group_name" {
  description = "Parameter group (for point-in-time restores)."
  value       = aws_db_parameter_group.this.name
}

output "kms_key_arn" {
  description = "KMS key encrypting storage and backups."
  value       = aws_kms_key.rds.arn
}

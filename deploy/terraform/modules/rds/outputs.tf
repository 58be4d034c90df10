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

output "replica_address" {
  description = "Host name of the read replica, or null."
  value       = var.create_read_replica ? aws_db_instance.replica[0].address : null
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

output "primary_endpoint_address" {
  description = "Primary endpoint host name (follows failovers); the KEDA trigger polls it."
  value       = aws_elasticache_replication_group.this.primary_endpoint_address
}

output "port" {
  description = "Redis port."
  value       = aws_elasticache_replication_group.this.port
}

output "address" {
  description = "host:port of the primary endpoint (Helm value worker.keda.redis.address)."
  value       = "${aws_elasticache_replication_group.this.primary_endpoint_address}:${aws_elasticache_replication_group.this.port}"
}

output "replica_count" {
  description = "Replicas in the replication group (num_cache_clusters - 1): the most that REDIS_DURABILITY=replicas can WAIT for."
  value       = var.num_cache_clusters - 1
}

output "auth_token" {
  description = "AUTH token (REDIS_PASSWORD in the app secret)."
  value       = random_password.auth.result
  sensitive   = true
}

output "redis_url" {
  description = "REDIS_URL for Sluice: rediss:// (TLS) with the AUTH token."
  value       = "rediss://:${random_password.auth.result}@${aws_elasticache_replication_group.this.primary_endpoint_address}:${aws_elasticache_replication_group.this.port}"
  sensitive   = true
}

output "security_group_id" {
  description = "Security group of the cache."
  value       = aws_security_group.redis.id
}

output "vpc_id" {
  description = "ID of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "CIDR of the VPC."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancers)."
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets (EKS nodes and pods)."
  value       = aws_subnet.private[*].id
}

output "private_subnet_cidrs" {
  description = "CIDRs of the private subnets (pod addresses with the VPC CNI; the ingress controller's pods, hence TRUST_PROXY)."
  value       = aws_subnet.private[*].cidr_block
}

output "database_subnet_ids" {
  description = "Isolated subnets for RDS."
  value       = aws_subnet.database[*].id
}

output "database_subnet_cidrs" {
  description = "CIDRs of the database subnets (NetworkPolicy egress to PostgreSQL)."
  value       = aws_subnet.database[*].cidr_block
}

output "cache_subnet_ids" {
  description = "Isolated subnets for ElastiCache."
  value       = aws_subnet.cache[*].id
}

output "cache_subnet_cidrs" {
  description = "CIDRs of the cache subnets (NetworkPolicy egress to Redis)."
  value       = aws_subnet.cache[*].cidr_block
}

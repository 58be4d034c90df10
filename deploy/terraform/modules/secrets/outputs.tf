output "secret_name" {
  description = "Name of the Secrets Manager secret (Helm value externalSecret.remoteKey)."
  value       = aws_secretsmanager_secret.app.name
}

output "secret_arn" {
  description = "ARN of the Secrets Manager secret."
  value       = aws_secretsmanager_secret.app.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the secret."
  value       = aws_kms_key.secrets.arn
}

output "app_role_arn" {
  description = "IRSA role of the Sluice pods (Helm value serviceAccount.irsaRoleArn)."
  value       = aws_iam_role.app.arn
}

output "external_secrets_role_arn" {
  description = "IRSA role for the External Secrets Operator controller's service account."
  value       = aws_iam_role.external_secrets.arn
}

output "admin_token" {
  description = "Initial ADMIN_TOKEN (also in the secret)."
  value       = random_password.admin_token.result
  sensitive   = true
}

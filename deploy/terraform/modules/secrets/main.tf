# The app's secrets in AWS Secrets Manager, as one JSON object whose keys are the environment
# variable names the Helm chart reads (DATABASE_URL, REDIS_URL, ADMIN_TOKEN, REDIS_PASSWORD, and
# DATABASE_READ_URL when the rds module has a read replica).
# The External Secrets Operator copies it into the Kubernetes Secret (ExternalSecret with
# dataFrom.extract). Two IRSA roles may read it: the ESO controller (ClusterSecretStore) and
# Sluice's own service account (a namespaced SecretStore using its token).

locals {
  oidc_sub = "${var.oidc_issuer}:sub"
  oidc_aud = "${var.oidc_issuer}:aud"
}

resource "aws_kms_key" "secrets" {
  description             = "${var.name} Secrets Manager encryption"
  deletion_window_in_days = 30
  enable_key_rotation     = true
  tags                    = var.tags
}

resource "aws_kms_alias" "secrets" {
  name          = "alias/${replace(var.name, "/", "-")}-secrets"
  target_key_id = aws_kms_key.secrets.key_id
}

resource "random_password" "admin_token" {
  length  = 48
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  name                    = var.name
  description             = "Sluice runtime secrets (DATABASE_URL, REDIS_URL, ADMIN_TOKEN, REDIS_PASSWORD, DATABASE_READ_URL)"
  kms_key_id              = aws_kms_key.secrets.arn
  recovery_window_in_days = var.recovery_window_days
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  # DATABASE_READ_URL only with a replica: the chart's readReplica.enabled requires the key.
  secret_string = jsonencode(merge({
    DATABASE_URL   = var.database_url
    REDIS_URL      = var.redis_url
    ADMIN_TOKEN    = random_password.admin_token.result
    REDIS_PASSWORD = var.redis_password
  }, var.database_read_url == null ? {} : { DATABASE_READ_URL = var.database_read_url }))

  lifecycle {
    # Rotations done by hand (docs/runbooks/key-rotation.md) are not reverted by the next apply.
    # So a replica added to an environment applied before gets its DATABASE_READ_URL by hand
    # (docs/runbooks/query-api.md#adding-or-removing-the-read-replica).
    ignore_changes = [secret_string]
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    sid       = "ReadSluiceSecret"
    actions   = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]
    resources = [aws_secretsmanager_secret.app.arn]
  }
  statement {
    sid       = "DecryptSluiceSecret"
    actions   = ["kms:Decrypt"]
    resources = [aws_kms_key.secrets.arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["secretsmanager.${data.aws_region.current.name}.amazonaws.com"]
    }
  }
}

data "aws_region" "current" {}

resource "aws_iam_policy" "read" {
  name        = "${replace(var.name, "/", "-")}-read"
  description = "Read the Sluice secret ${var.name}"
  policy      = data.aws_iam_policy_document.read.json
  tags        = var.tags
}

data "aws_iam_policy_document" "app_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = local.oidc_sub
      values   = [for sa in var.app_service_accounts : "system:serviceaccount:${sa}"]
    }
    condition {
      test     = "StringEquals"
      variable = local.oidc_aud
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "app" {
  name               = "${replace(var.name, "/", "-")}-irsa"
  description        = "IRSA role of the Sluice pods"
  assume_role_policy = data.aws_iam_policy_document.app_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "app" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}

data "aws_iam_policy_document" "eso_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = local.oidc_sub
      values   = ["system:serviceaccount:${var.external_secrets_service_account}"]
    }
    condition {
      test     = "StringEquals"
      variable = local.oidc_aud
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "external_secrets" {
  name               = "${replace(var.name, "/", "-")}-eso"
  description        = "IRSA role of the External Secrets Operator controller"
  assume_role_policy = data.aws_iam_policy_document.eso_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "external_secrets" {
  role       = aws_iam_role.external_secrets.name
  policy_arn = aws_iam_policy.read.arn
}

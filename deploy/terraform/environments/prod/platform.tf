# Cluster add-ons Sluice's chart relies on: KEDA (worker autoscaling on the Bull wait list) and
# the External Secrets Operator (the Secret from AWS Secrets Manager). The ClusterSecretStore
# that ESO uses is in deploy/argocd/platform/ (it needs ESO's CRDs first).

resource "helm_release" "keda" {
  name             = "keda"
  namespace        = "keda"
  create_namespace = true
  repository       = "https://kedacore.github.io/charts"
  chart            = "keda"
  version          = "2.17.2"
  atomic           = true

  depends_on = [module.eks]
}

resource "helm_release" "external_secrets" {
  name             = "external-secrets"
  namespace        = "external-secrets"
  create_namespace = true
  repository       = "https://charts.external-secrets.io"
  chart            = "external-secrets"
  version          = "0.18.2"
  atomic           = true

  values = [yamlencode({
    installCRDs = true
    serviceAccount = {
      name        = "external-secrets"
      annotations = { "eks.amazonaws.com/role-arn" = module.secrets.external_secrets_role_arn }
    }
  })]

  depends_on = [module.eks]
}

# The CA bundle that signs the RDS server certificates (ca_cert_identifier in modules/rds), for
# DATABASE_SSL=verify-full: Node's built-in CAs do not include the RDS CAs. AWS publishes one
# bundle per region; it goes into the Helm values (databaseCa.pem, see outputs.tf), so a change
# of the bundle shows up as a reviewed diff of deploy/argocd/<env>/values-infra.yaml.
data "http" "rds_ca_bundle" {
  url = "https://truststore.pki.rds.amazonaws.com/${var.region}/${var.region}-bundle.pem"

  lifecycle {
    postcondition {
      condition     = self.status_code == 200 && strcontains(self.response_body, "-----BEGIN CERTIFICATE-----")
      error_message = "Could not fetch the RDS CA bundle of this region from truststore.pki.rds.amazonaws.com."
    }
  }
}

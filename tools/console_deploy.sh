#!/usr/bin/env bash
# `make console-deploy`: publishes console/ to the deployed stack's ConsoleBucket (under console/) with the
# config.json that names the stack's Cognito hosted UI, then invalidates CloudFront's copies. Needs the AWS
# CLI and credentials for the stack's account; docs/console.md. Not run in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${STACK:?the stack name, e.g. STACK=tuishou-dev}"

output() {
  aws cloudformation describe-stacks --stack-name "$STACK" \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue" --output text
}
bucket=$(output ConsoleBucket)
url=$(output ConsoleUrl)
client_id=$(output ConsoleUserPoolClientId)
domain=$(output ConsoleAuthDomain)
distribution=$(output ConsoleDistributionId)

config=$(mktemp)
trap 'rm -f "$config"' EXIT
printf '{"auth": "cognito", "api_base": "", "cognito_domain": "%s", "client_id": "%s", "redirect_uri": "%s"}\n' \
  "$domain" "$client_id" "$url" >"$config"

# The files keep their names and types; config.json is never cached, so a redeploy's sign-in settings apply at once.
aws s3 sync console/ "s3://$bucket/console/" --delete --exclude config.json --cache-control "max-age=300"
aws s3 cp "$config" "s3://$bucket/console/config.json" --content-type application/json --cache-control no-store
aws cloudfront create-invalidation --distribution-id "$distribution" --paths "/console/*" >/dev/null
echo "console published: $url"

#!/usr/bin/env bash
# Deploy Berth's stacks (Berth-Stateful, Berth-ControlPlane) onto a running LocalStack with cdklocal
# (npm aws-cdk-local, a wrapper of the cdk CLI that points it at LocalStack).
#
#   docker compose -f localstack/docker-compose.yml up -d
#   localstack/deploy.sh
#
# Environment:
#   LOCALSTACK_ENDPOINT   default http://localhost.localstack.cloud:4566
#   AWS_REGION            default us-east-1
set -euo pipefail
cd "$(dirname "$0")/.."

endpoint="${LOCALSTACK_ENDPOINT:-http://localhost.localstack.cloud:4566}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}"

# Fail early, with a reason, when LocalStack is not up.
if ! curl -sf --max-time 5 "${endpoint}/_localstack/health" >/dev/null; then
  echo "LocalStack is not reachable at ${endpoint}." >&2
  echo "Start it with: docker compose -f localstack/docker-compose.yml up -d" >&2
  exit 1
fi

export CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=1
export AWS_REGION="${region}" AWS_DEFAULT_REGION="${region}"
# cdklocal drops AWS_* variables it is not told to keep (so real credentials never reach LocalStack).
export AWS_ENVAR_ALLOWLIST="AWS_REGION,AWS_DEFAULT_REGION"
if [[ -n "${LOCALSTACK_ENDPOINT:-}" ]]; then
  export AWS_ENDPOINT_URL="${endpoint}"
  # cdklocal requires both; S3 assets need a host that resolves bucket subdomains.
  export AWS_ENDPOINT_URL_S3="${AWS_ENDPOINT_URL_S3:-http://s3.localhost.localstack.cloud:4566}"
fi

cdk_local() {
  # The free edition has no API Gateway v2 (WebSocket APIs): agents long-poll instead of the channel.
  npx cdklocal "$@" --no-notices -c berth:deletionProtection=false -c berth:agentChannel=false
}

echo "Bootstrapping LocalStack (${endpoint}, ${region})..."
cdk_local bootstrap

echo "Deploying Berth-Stateful and Berth-ControlPlane..."
cdk_local deploy --all --require-approval never --outputs-file localstack/cdk-outputs.json

echo
echo "Deployed. Outputs are in localstack/cdk-outputs.json; run the smoke test with:"
echo "  npx vitest run -c localstack/vitest.config.ts"

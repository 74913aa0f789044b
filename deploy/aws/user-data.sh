#!/bin/sh
# EC2 user data for a Berth workspace instance (Debian 12, Ubuntu 22.04/24.04 or Amazon Linux
# 2023). Fill in the settings, then put this file in the launch template (docs/AWS-DEPLOY.md).
# It fetches the berth-agent bundle (deploy/aws/package.sh builds it), checks its SHA-256 and
# runs the bundle's install.sh.
set -eu

# ---- settings -------------------------------------------------------------------------------
export BERTH_API_URL='https://berth.example.com'     # the API the agent sends heartbeats to
export BERTH_TEMPLATE='code-server'                  # code-server, chromium or command
export BERTH_SLOTS_PER_HOST='1'                      # as the worker's BERTH_SLOTS_PER_HOST
export BERTH_AWS_TEMPLATE_PORT='8080'                # as the worker's BERTH_AWS_TEMPLATE_PORT
export BERTH_AWS_AGENT_PORT='9100'                   # as the worker's BERTH_AWS_AGENT_PORT
export BERTH_AGENT_ALLOW_FROM='10.0.1.0/24'          # the worker's subnet; empty: the security group alone
export BERTH_AGENT_LIFECYCLE_HOOK=''                 # berth-launch, with a launch lifecycle hook
export BERTH_TEMPLATE_COMMAND=''                     # command only: e.g. python3 -m http.server {port}
BUNDLE_URL='https://example-bucket.s3.amazonaws.com/berth-agent-0.1.0.tar.gz'
BUNDLE_SHA256='0000000000000000000000000000000000000000000000000000000000000000'
# ---------------------------------------------------------------------------------------------

bundle=/opt/berth/agent
mkdir -p "$bundle"
curl -fsSL --retry 5 --retry-connrefused -o /tmp/berth-agent.tar.gz "$BUNDLE_URL"
echo "$BUNDLE_SHA256  /tmp/berth-agent.tar.gz" | sha256sum -c -
tar -xzf /tmp/berth-agent.tar.gz -C "$bundle"
rm -f /tmp/berth-agent.tar.gz
sh "$bundle/install.sh"

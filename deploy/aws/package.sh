#!/bin/sh
# Builds the berth-agent bundle: berth-agent.jar, its lib/, install.sh and the systemd units, as
# deploy/aws/berth-agent-<version>.tar.gz, and prints its SHA-256 for user-data.sh.
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
version=$(sed -n 's#^  <version>\(.*\)</version>#\1#p' "$repo/pom.xml" | head -n 1)
(cd "$repo" && mvn -B -q -pl agent -am -DskipTests package)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp -R "$repo/agent/target/berth-agent.jar" "$repo/agent/target/lib" "$stage/"
cp -R "$repo/deploy/aws/install.sh" "$repo/deploy/aws/systemd" "$stage/"
out="$repo/deploy/aws/berth-agent-$version.tar.gz"
tar -czf "$out" -C "$stage" .
echo "$out"
sha256sum "$out" | cut -d' ' -f1

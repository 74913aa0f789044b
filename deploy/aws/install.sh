#!/bin/sh
# Sets up a Berth workspace instance from the berth-agent bundle this script ships in: the
# distribution's JRE (patched by the distribution's security updates), the template, one user and
# one systemd unit per slot, and berth-agent. Run as root by the user data (user-data.sh), or
# while baking an AMI. Settings come from the environment; docs/AWS-DEPLOY.md lists them.
#
# BERTH_INSTALL_ROOT=<dir> BERTH_INSTALL_RENDER_ONLY=1 writes the files under <dir> and installs,
# creates and starts nothing (how the tests render the recipe for each template).
set -eu

die() {
  echo "berth install: $*" >&2
  exit 1
}

here=$(cd "$(dirname "$0")" && pwd)
root=${BERTH_INSTALL_ROOT:-}
render_only=${BERTH_INSTALL_RENDER_ONLY:-0}
api=${BERTH_API_URL:?BERTH_API_URL is required: the Berth API heartbeats go to, e.g. https://berth.example.com}
template=${BERTH_TEMPLATE:-code-server}
slots=${BERTH_SLOTS_PER_HOST:-1}
template_port=${BERTH_AWS_TEMPLATE_PORT:-8080}
agent_port=${BERTH_AWS_AGENT_PORT:-9100}
code_server_version=${BERTH_CODE_SERVER_VERSION:-4.106.3}

case $template in
  code-server | chromium | command) ;;
  *) die "BERTH_TEMPLATE must be code-server, chromium or command, not '$template'" ;;
esac
case $slots in
  '' | *[!0-9]*) die "BERTH_SLOTS_PER_HOST must be a number, not '$slots'" ;;
esac
[ "$slots" -ge 1 ] || die "BERTH_SLOTS_PER_HOST must be at least 1"
if [ "$template" = command ]; then
  [ -n "${BERTH_TEMPLATE_COMMAND:-}" ] || die "BERTH_TEMPLATE=command needs BERTH_TEMPLATE_COMMAND (with {port})"
  case $BERTH_TEMPLATE_COMMAND in
    *'{port}'*) ;;
    *) die "BERTH_TEMPLATE_COMMAND must contain {port}" ;;
  esac
fi

# The JRE and the automatic security updates from the distribution, then the template's program.
install_packages() {
  if command -v apt-get >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q openjdk-17-jre-headless unattended-upgrades curl
    if [ "$template" = chromium ]; then
      apt-get install -y -q chromium
    fi
  elif command -v dnf >/dev/null; then
    dnf install -y -q java-17-amazon-corretto-headless dnf-automatic
    sed -i 's/^upgrade_type *=.*/upgrade_type = security/; s/^apply_updates *=.*/apply_updates = yes/' /etc/dnf/automatic.conf
    systemctl enable --now dnf-automatic.timer
    [ "$template" != chromium ] || die "the chromium template needs a Debian or Ubuntu image (apt's chromium package)"
  else
    die "neither apt-get nor dnf: use a Debian, Ubuntu or Amazon Linux 2023 image"
  fi
  if [ "$template" = code-server ]; then
    # code-server's own installer: its .deb or .rpm, pinned to one version.
    curl -fsSL https://code-server.dev/install.sh | sh -s -- --version "$code_server_version"
  fi
}

# One unprivileged user per slot; the home is what berth-agent wipes on Recycle.
add_users() {
  i=0
  while [ "$i" -lt "$slots" ]; do
    if [ "$render_only" = 1 ]; then
      mkdir -p "$root/home/berth$i"
    elif ! id "berth$i" >/dev/null 2>&1; then
      useradd --create-home --home-dir "/home/berth$i" --shell /bin/bash --user-group "berth$i"
    fi
    chmod 700 "$root/home/berth$i"
    i=$((i + 1))
  done
}

write_env_files() {
  mkdir -p "$root/etc/berth"
  i=0
  while [ "$i" -lt "$slots" ]; do
    port=$((template_port + i))
    {
      echo "BERTH_PORT=$port"
      if [ "$template" = command ]; then
        echo "BERTH_COMMAND=$(printf '%s' "$BERTH_TEMPLATE_COMMAND" | sed "s/{port}/$port/g; s#{slotDir}#/home/berth$i#g")"
      fi
    } >"$root/etc/berth/slot-$i.env"
    i=$((i + 1))
  done
  (
    umask 077
    {
      echo "BERTH_API_URL=$api"
      echo "BERTH_TEMPLATE=$template"
      echo "BERTH_SLOTS_PER_HOST=$slots"
      echo "BERTH_AWS_TEMPLATE_PORT=$template_port"
      echo "BERTH_AGENT_LISTEN=:$agent_port"
      echo "BERTH_AGENT_ALLOW_FROM=${BERTH_AGENT_ALLOW_FROM:-}"
      echo "BERTH_AGENT_LIFECYCLE_HOOK=${BERTH_AGENT_LIFECYCLE_HOOK:-}"
      if [ -n "${BERTH_TEMPLATE_PROBE_PATH:-}" ]; then
        echo "BERTH_TEMPLATE_PROBE_PATH=$BERTH_TEMPLATE_PROBE_PATH"
      fi
    } >"$root/etc/berth/agent.env"
  )
}

install_agent_and_units() {
  mkdir -p "$root/opt/berth/agent" "$root/etc/systemd/system"
  if [ "$here" != "$root/opt/berth/agent" ] && [ -f "$here/berth-agent.jar" ]; then
    cp -R "$here/berth-agent.jar" "$here/lib" "$root/opt/berth/agent/"
  fi
  for unit in berth-agent.service "berth-$template@.service"; do
    cp "$here/systemd/$unit" "$root/etc/systemd/system/$unit"
    chmod 644 "$root/etc/systemd/system/$unit"
  done
}

# The agent first: the template units wait for it (/run/berth/ready) before they start.
start_services() {
  systemctl daemon-reload
  systemctl enable --now berth-agent.service
  i=0
  while [ "$i" -lt "$slots" ]; do
    systemctl enable --now "berth-$template@$i.service"
    i=$((i + 1))
  done
}

if [ "$render_only" != 1 ]; then
  install_packages
fi
add_users
write_env_files
install_agent_and_units
if [ "$render_only" != 1 ]; then
  start_services
fi
echo "berth install: $slots slot(s) of $template from port $template_port, berth-agent on port $agent_port"

#!/usr/bin/env bash
# Build a RabbitMQ image (with the management plugin) from Debian's packages, without any registry:
# mmdebstrap writes a minimal bookworm root with rabbitmq-server into `docker import`.
#
#   scripts/build-rabbitmq-image.sh          prints the image tag on stdout (progress on stderr)
#
# The tag is evt/rabbitmq-debian:<hash of this recipe>; evt/rabbitmq-debian:latest points at it too.
# Cached by content: when the image is in the engine nothing is done; when a tarball of it is in
# $EVT_IMAGE_CACHE (default ~/.cache/evt/images) it is loaded (seconds); else it is built (~60-90 s) and saved.
# Needs DOCKER_HOST pointing at an engine (see scripts/docker-engine.sh) and mmdebstrap.
set -euo pipefail

REPO="evt/rabbitmq-debian"
SUITE="${EVT_IMAGE_SUITE:-bookworm}"
CACHE="${EVT_IMAGE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/evt/images}"

say() { echo "build-rabbitmq-image: $*" >&2; }

# The mirror this machine's apt uses (deb822 or one-line sources), else Debian's.
mirror() {
  local m=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    m="$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m="$(awk '$1=="deb" && $2 !~ /^\[/ && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list)"
  fi
  echo "${m:-http://deb.debian.org/debian}"
}

# The container's entrypoint: the official image's RABBITMQ_DEFAULT_USER/PASS (which Debian's 3.10 does not
# read) become rabbitmq.conf settings, then the server runs in the foreground, logging to stdout.
ENTRYPOINT='#!/bin/sh
set -e
conf=/etc/rabbitmq/rabbitmq.conf
{
  echo "loopback_users.guest = false"
  echo "listeners.tcp.default = 5672"
  echo "management.tcp.port = 15672"
  echo "disk_free_limit.absolute = 50MB"
  if [ -n "${RABBITMQ_DEFAULT_USER:-}" ]; then echo "default_user = $RABBITMQ_DEFAULT_USER"; fi
  if [ -n "${RABBITMQ_DEFAULT_PASS:-}" ]; then echo "default_pass = $RABBITMQ_DEFAULT_PASS"; fi
  echo "default_user_tags.administrator = true"
  echo "default_permissions.configure = .*"
  echo "default_permissions.read = .*"
  echo "default_permissions.write = .*"
} >"$conf"
if [ "$#" -eq 0 ] || [ "$1" = "rabbitmq-server" ]; then exec /usr/lib/rabbitmq/bin/rabbitmq-server; fi
exec "$@"
'

# Everything that decides the image's content goes into its tag.
RECIPE_VERSION=1
HASH="$(printf '%s\n' "$RECIPE_VERSION" "$SUITE" "$ENTRYPOINT" "$(sed -n '/^build()/,/^}/p' "$0")" | sha256sum | cut -c1-12)"
TAG="$REPO:$HASH"
TARBALL="$CACHE/rabbitmq-debian-$HASH.tar"

build() {
  local tmp
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' RETURN
  printf '%s' "$ENTRYPOINT" >"$tmp/entrypoint.sh"
  say "building $TAG from $(mirror) ($SUITE; ~1-2 minutes)"
  mmdebstrap --quiet --variant=essential --include=rabbitmq-server \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --customize-hook="upload $tmp/entrypoint.sh /usr/local/bin/docker-entrypoint.sh" \
    --customize-hook='chmod 0755 "$1/usr/local/bin/docker-entrypoint.sh"' \
    --customize-hook='echo "[rabbitmq_management]." >"$1/etc/rabbitmq/enabled_plugins"' \
    --customize-hook='chroot "$1" chown -R rabbitmq:rabbitmq /etc/rabbitmq /var/lib/rabbitmq /var/log/rabbitmq' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/usr/share/doc "$1"/usr/share/man' \
    "$SUITE" - "$(mirror)" |
    docker import \
      --change 'USER rabbitmq' \
      --change 'WORKDIR /var/lib/rabbitmq' \
      --change 'ENV HOME=/var/lib/rabbitmq' \
      --change 'ENV RABBITMQ_LOGS=-' \
      --change 'ENV LANG=C.UTF-8' \
      --change 'EXPOSE 5672 15672' \
      --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
      --change 'CMD ["rabbitmq-server"]' \
      --message "evt: rabbitmq-server from Debian $SUITE" \
      - "$TAG" >/dev/null
}

if [ -z "${DOCKER_HOST:-}" ] && [ ! -S /var/run/docker.sock ]; then
  say "no Docker engine: set DOCKER_HOST (eval \"\$(scripts/docker-engine.sh env)\")"
  exit 3
fi

if docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG is present"
elif [ -f "$TARBALL" ] && docker load -i "$TARBALL" >/dev/null 2>&1 && docker image inspect "$TAG" >/dev/null 2>&1; then
  say "$TAG loaded from $TARBALL"
else
  command -v mmdebstrap >/dev/null 2>&1 || { say "mmdebstrap is not installed (apt-get install mmdebstrap)"; exit 1; }
  started=$SECONDS
  build
  say "built $TAG in $((SECONDS - started)) s"
  mkdir -p "$CACHE"
  docker save -o "$TARBALL.part" "$TAG" && mv "$TARBALL.part" "$TARBALL" && say "cached in $TARBALL"
fi
docker tag "$TAG" "$REPO:latest"
echo "$TAG"

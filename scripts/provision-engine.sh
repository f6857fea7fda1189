#!/usr/bin/env bash
# Provision what devbox needs to run builds: a Docker Engine with BuildKit and the buildx
# plugin, and the local Python base images the test suite and the demo use
# (localhost/devbox-test/python:3.11 and :3.13).  Idempotent: every step is skipped when its
# result is already there, so it is cheap to call before every run.
#
#   scripts/provision-engine.sh [all|engine|images|test-infra|check]
#
# Two kinds of machine are handled:
# - a developer laptop or CI host with a working engine (Docker Desktop, a distro docker with
#   buildx): nothing is installed; missing base images are made by pulling python:X-slim and
#   tagging it, so the same tags exist everywhere.
# - a Debian 12 host with only the docker client, no engine and no reachable registry
#   (our CI machines): as root, dockerd 26 + containerd + buildx 0.13 are unpacked from
#   Debian 13 packages into $DEVBOX_ENGINE_DIR and started; the base images are made with
#   debootstrap (bookworm: Python 3.11, trixie: Python 3.13) and `docker import`.
#   `test-infra` (part of `all`) also installs what the integration tests in tests/infra.py
#   need: Debian's `docker-registry` (a local registry on 127.0.0.1) and `ip` (iproute2, for
#   the bridge of a second dockerd standing in for a remote builder).  Elsewhere it does
#   nothing and those tests skip.
#
# Facts behind the Debian path (checked on Debian 12 with dockerd 26.1.5 / buildx 0.13.1):
# - Debian 12's docker.io is 20.10 (BuildKit 0.8: no heredocs, old frontend); Debian 13's
#   binaries need glibc 2.34 and run on Debian 12, except its runc (glibc 2.38): keep the
#   host's runc 1.1.5.
# - Packages are fetched with a side apt configuration and unpacked with dpkg-deb -x, so the
#   host's package database is not touched.
# - HTTPS from containers may go through a TLS-intercepting proxy: the images carry the host's
#   CA bundle, or pip inside them fails with CERTIFICATE_VERIFY_FAILED.
# - A killed dockerd leaves /var/run/docker.pid behind and a new one refuses to start: stale
#   pid files are cleared first.
set -euo pipefail

ENGINE_DIR=${DEVBOX_ENGINE_DIR:-/opt/devbox-engine}
CACHE_DIR=${DEVBOX_ENGINE_CACHE:-/var/cache/devbox-engine}
LOG=${DEVBOX_DOCKERD_LOG:-/var/log/devbox-dockerd.log}
MIRROR=${DEVBOX_DEBIAN_MIRROR:-http://deb.debian.org/debian}
MIN_BUILDX=0.12
IMAGES=("bookworm 3.11" "trixie 3.13")

say() { printf 'provision: %s\n' "$*"; }
die() { printf 'provision: error: %s\n' "$*" >&2; exit 1; }

have_engine() { docker info >/dev/null 2>&1; }
buildx_version() { docker buildx version 2>/dev/null | sed -n 's/.* v\{0,1\}\([0-9][0-9]*\.[0-9][0-9]*\)[.0-9]*.*/\1/p' | head -1; }
version_ge() { [[ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" == "$2" ]]; }
is_debian_root() { [[ $(id -u) == 0 && -r /etc/debian_version ]] && command -v apt-get >/dev/null; }

apt_host() {  # install missing host packages (Debian)
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  say "installing host packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

fetch_engine_debs() {  # download (not install) the engine packages from Debian 13
  local side=$CACHE_DIR/trixie-apt
  mkdir -p "$side/lists/partial" "$side/archives/partial"
  echo "deb $MIRROR trixie main" >"$side/sources.list"
  local o=(-o "Dir::Etc::SourceList=$side/sources.list" -o Dir::Etc::SourceParts=/dev/null -o APT::Sandbox::User=root
           -o "Dir::State::Lists=$side/lists" -o "Dir::Cache=$side")
  apt-get "${o[@]}" -qq update
  (cd "$side/archives" && apt-get "${o[@]}" -qq download docker.io containerd docker-buildx >/dev/null)
  echo "$side/archives"
}

clear_stale() {  # $1 pid file, $2 process name
  local pid; pid=$(cat "$1" 2>/dev/null) || return 0
  if [[ -n $pid && $(ps -o comm= -p "$pid" 2>/dev/null) == "$2" ]]; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$1"
}

check_buildx() {
  local v; v=$(buildx_version)
  [[ -n $v ]] || die "the docker buildx plugin is missing. Install it (Debian: docker-buildx; Docker Desktop ships it) and run this script again."
  version_ge "$v" "$MIN_BUILDX" || die "docker buildx $v is too old: devbox needs >= $MIN_BUILDX (for --progress=rawjson)."
}

start_engine() {
  if have_engine; then
    if ! buildx_version >/dev/null || [[ -z $(buildx_version) ]]; then
      [[ -x $ENGINE_DIR/usr/libexec/docker/cli-plugins/docker-buildx ]] && link_buildx
    fi
    check_buildx
    say "engine already running: $(docker version --format 'dockerd {{.Server.Version}}'), buildx $(buildx_version)"
    return 0
  fi
  is_debian_root || die "no Docker engine is reachable ('docker info' fails). Start Docker Desktop or your docker service, or run this script as root on Debian to provision one."
  apt_host runc iptables ca-certificates
  if [[ ! -x $ENGINE_DIR/usr/sbin/dockerd ]]; then
    say "fetching dockerd, containerd and buildx (Debian 13 packages)"
    local debs tmp; debs=$(fetch_engine_debs)
    tmp=$ENGINE_DIR.tmp; rm -rf "$tmp"; mkdir -p "$tmp"
    local deb
    for deb in "$debs"/docker.io_*.deb "$debs"/containerd_*.deb "$debs"/docker-buildx_*.deb; do
      [[ -e $deb ]] || die "package download failed: $deb missing"
      dpkg-deb -x "$deb" "$tmp"
    done
    rm -f "$tmp/usr/bin/runc" "$tmp/usr/sbin/runc"   # trixie's runc needs glibc 2.38: use the host's
    rm -rf "$ENGINE_DIR"; mv "$tmp" "$ENGINE_DIR"
  fi
  link_buildx
  clear_stale /var/run/docker.pid dockerd
  clear_stale /var/run/docker/containerd/containerd.pid containerd
  say "starting dockerd (log: $LOG)"
  # 9>&-: the daemon must not inherit (and hold forever) this script's lock on fd 9.
  PATH=$ENGINE_DIR/usr/bin:$ENGINE_DIR/usr/sbin:$PATH setsid nohup "$ENGINE_DIR/usr/sbin/dockerd" >"$LOG" 2>&1 </dev/null 9>&- &
  for _ in $(seq 120); do have_engine && break; sleep 0.5; done
  have_engine || { tail -20 "$LOG" >&2; die "dockerd did not come up; see $LOG"; }
  check_buildx
  say "engine up: $(docker version --format 'dockerd {{.Server.Version}}'), buildx $(buildx_version)"
}

link_buildx() {
  mkdir -p /usr/local/lib/docker/cli-plugins
  ln -sf "$ENGINE_DIR/usr/libexec/docker/cli-plugins/docker-buildx" /usr/local/lib/docker/cli-plugins/docker-buildx
}

base_image() {  # $1 Debian suite, $2 python version -> localhost/devbox-test/python:$2
  local suite=$1 py=$2 tag=localhost/devbox-test/python:$2
  if docker image inspect "$tag" >/dev/null 2>&1; then say "image $tag present"; return 0; fi
  if ! is_debian_root || ! [[ -x $ENGINE_DIR/usr/sbin/dockerd || -s $CACHE_DIR/rootfs-$suite.tar ]]; then
    # An engine we did not provision (Docker Desktop, a distro docker): it can pull.
    say "pulling python:$py-slim as $tag"
    docker pull -q "python:$py-slim" >/dev/null || die "cannot pull python:$py-slim for $tag"
    docker tag "python:$py-slim" "$tag"
    return 0
  fi
  local tarball=$CACHE_DIR/rootfs-$suite.tar
  if [[ ! -s $tarball ]]; then
    apt_host debootstrap
    local root; root=$(mktemp -d)
    say "debootstrap $suite (about a minute; log: $CACHE_DIR/debootstrap-$suite.log)"
    debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,python-is-python3,ca-certificates \
      "$suite" "$root" "$MIRROR" >"$CACHE_DIR/debootstrap-$suite.log" 2>&1 \
      || die "debootstrap $suite failed; see $CACHE_DIR/debootstrap-$suite.log"
    cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
    tar -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  fi
  docker import --change 'CMD ["python3"]' --change 'ENV LANG=C.UTF-8' "$tarball" "$tag" >/dev/null
  say "image $tag imported (python $(docker run --rm "$tag" python3 -c 'import sys;print(sys.version.split()[0])'))"
}

test_infra() {  # the local registry and `ip` for tests/infra.py (Debian root only)
  if ! is_debian_root; then
    say "test infrastructure: not a Debian root machine, skipped (the registry and second-engine tests will skip)"
    return 0
  fi
  local pkgs=(docker-registry)
  command -v ip >/dev/null || pkgs+=(iproute2)
  apt_host "${pkgs[@]}"
  [[ -x /usr/bin/docker-registry ]] || die "docker-registry is installed but /usr/bin/docker-registry is missing"
  say "test infrastructure present: $(/usr/bin/docker-registry --version | awk '{print $NF}'), $(command -v ip)"
}

images() { local spec; for spec in "${IMAGES[@]}"; do base_image $spec; done; }

mkdir -p "$CACHE_DIR" 2>/dev/null || CACHE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/devbox-engine
mkdir -p "$CACHE_DIR"
exec 9>"$CACHE_DIR/.lock"; ! command -v flock >/dev/null || flock 9   # two callers at once (the demo and the tests) wait for each other

case ${1:-all} in
  engine) start_engine ;;
  images) images ;;
  test-infra) test_infra ;;
  all) start_engine; images; test_infra ;;
  check) have_engine && check_buildx && say "engine ok: buildx $(buildx_version)" ;;
  *) echo "usage: $0 [all|engine|images|test-infra|check]" >&2; exit 2 ;;
esac

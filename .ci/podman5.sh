#!/usr/bin/env bash
# Prepare podman 5 (Debian 13's, 5.4.2) on a Debian 12 machine, run from a chroot,
# and print the path of a wrapper that runs it (the test suite's PODPROXY_TEST_PODMAN).
#
# Idempotent and cached: the chroot stays in $PODMAN5_DIR (default
# /var/cache/podproxy/trixie) where a later run on the same machine reuses it; the
# packages are installed only if podman is missing; a mount is made only if
# /proc/self/mountinfo does not show it already. Run as root.
#
#   wrapper=$(.ci/podman5.sh)
#   PODPROXY_TEST_PODMAN=$wrapper .venv/bin/python -m pytest tests/differential
#
# What the chroot needs (found by trying, see issue 13):
# - its root must itself be a mount point, else unpacking a layer fails with
#   "remount /, flags: 0x44000: invalid argument";
# - /proc, /sys (recursive: the cgroup mounts) and /dev; a tmpfs of its own on
#   /dev/shm, so podman 5's lock segment (/dev/shm/libpod_lock) is not the one the
#   host's podman 4.3 uses;
# - the host's /tmp and /var/tmp at the same paths, so a store, a TMPDIR or a
#   socket under them means the same file to podproxy (outside) and podman (inside).
set -euo pipefail

DIR=${PODMAN5_DIR:-/var/cache/podproxy/trixie}
WRAPPER=${PODMAN5_WRAPPER:-$(dirname "$DIR")/podman5}
MIRROR=${PODMAN5_MIRROR:-http://deb.debian.org/debian}
PACKAGES="podman crun conmon fuse-overlayfs netavark aardvark-dns catatonit uidmap
golang-github-containers-common ca-certificates"

log() { echo "podman5.sh: $*" >&2; }

# is $1 a mount point (exactly that path) in this mount namespace?
mounted() {
  awk -v p="$1" '$5 == p {found = 1} END {exit !found}' /proc/self/mountinfo
}

mount_once() {  # mount_once TARGET MOUNT-ARGS...
  local target=$1
  shift
  if ! mounted "$target"; then
    mkdir -p "$target"
    mount "$@" "$target"
  fi
}

if [ ! -x "$DIR/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null
  log "debootstrap trixie into $DIR"
  mkdir -p "$(dirname "$DIR")"
  debootstrap --variant=minbase trixie "$DIR" "$MIRROR" >&2
fi

# the chroot's root is a mount point of its own (bound onto itself; recursive, so
# that mounts already below it stay visible if only this one was undone)
mount_once "$DIR" --rbind "$DIR"
mount_once "$DIR/proc" -t proc proc
mount_once "$DIR/sys" --rbind /sys
mount_once "$DIR/dev" --bind /dev
mount_once "$DIR/dev/shm" -t tmpfs -o mode=1777,nosuid,nodev tmpfs
mount_once "$DIR/tmp" --bind /tmp
mount_once "$DIR/var/tmp" --bind /var/tmp

if [ ! -x "$DIR/usr/bin/podman" ]; then
  log "installing podman into $DIR"
  cp -L /etc/resolv.conf "$DIR/etc/resolv.conf"
  chroot "$DIR" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  # shellcheck disable=SC2086
  chroot "$DIR" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $PACKAGES >&2
  chroot "$DIR" apt-get clean
fi

tmp=$(mktemp "$WRAPPER.XXXXXX")
cat >"$tmp" <<EOF
#!/bin/sh
# podman 5 from the chroot $DIR (made by .ci/podman5.sh)
PODMAN_IGNORE_CGROUPSV1_WARNING=1 exec chroot $DIR /usr/bin/podman "\$@"
EOF
chmod 755 "$tmp"
mv "$tmp" "$WRAPPER"

version=$("$WRAPPER" version --format '{{.Client.Version}}')
log "podman $version ready"
echo "$WRAPPER"

#!/usr/bin/env bash
# setup.sh [--arch x86_64|arm64]: install what the kernel runner needs, only
# when missing (qemu-system-x86 without recommends, busybox-static, jq;
# cpio/xz/zstd to pack and unpack; for arm64 guests qemu-system-arm: their
# kernel and busybox come from fetch-debian.sh --arch arm64).  Idempotent: a
# no-op when everything is there.
set -euo pipefail
. "$(dirname "$0")/common.sh"
qemu=qemu-system-x86
case ${1:-} in
--arch) case ${2:-} in arm64 | aarch64) qemu=qemu-system-arm ;; esac ;;
esac
ensure_pkgs "$qemu" busybox-static jq cpio xz-utils zstd kmod binutils ||
	die 1 "package installation failed"

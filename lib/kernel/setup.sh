#!/usr/bin/env bash
# setup.sh: install what the kernel runner needs, only when missing
# (qemu-system-x86 without recommends, busybox-static, jq; cpio/xz/zstd to
# pack and unpack).  Idempotent: a no-op when everything is there.
set -euo pipefail
. "$(dirname "$0")/common.sh"
ensure_pkgs qemu-system-x86 busybox-static jq cpio xz-utils zstd kmod binutils ||
	die 1 "package installation failed"

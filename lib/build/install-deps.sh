#!/bin/bash
# Installs the Debian packages irqbench needs, only those missing.  As a
# non-root user it cannot: it names the apt-get command and fails.
# Usage: install-deps.sh PACKAGE...
set -u

missing=()
for pkg in "$@"; do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "irqbench: missing packages; run as root: apt-get install -y --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
echo "irqbench: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# PKG:ARCH (e.g. libnuma-dev:arm64 for a cross build) needs that
# architecture known to dpkg, and package lists that include it.
for pkg in "${missing[@]}"; do
	arch=${pkg#*:}
	[ "$arch" != "$pkg" ] || continue
	[ "$arch" = "$(dpkg --print-architecture)" ] && continue
	dpkg --print-foreign-architectures | grep -qx "$arch" && continue
	echo "irqbench: dpkg --add-architecture $arch" >&2
	dpkg --add-architecture "$arch" && apt-get update -qq || {
		echo "irqbench: enabling the $arch architecture failed" >&2
		exit 1
	}
done
# A fresh machine may have no package lists yet: update only when needed.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
		echo "irqbench: apt-get install ${missing[*]} failed" >&2
		exit 1
	}
fi

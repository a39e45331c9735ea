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
# A fresh machine may have no package lists yet: update only when needed.
if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
	apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
		echo "irqbench: apt-get install ${missing[*]} failed" >&2
		exit 1
	}
fi

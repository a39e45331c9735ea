#!/bin/bash
# The one set-up step (lib/build/setup.sh, lib/build/packages.list): the list
# is well formed, every group installs and its commands exist, bad cases get
# one line and exit 2 (3 when apt cannot fetch), and nothing else in the
# suite installs packages.
# (That a fresh machine needs nothing more is tests/fresh-root.sh's job.)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=${here%/tests}
setup=$repo/lib/build/setup.sh
list=$repo/lib/build/packages.list
tmp=$(mktemp -d "${TMPDIR:-/tmp}/test_setup.XXXXXX")
chmod 755 "$tmp" # read by the unprivileged case too
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=tests/tap.sh
source "$here/tap.sh"

echo "TAP version 13"
bad=$(awk -F '\t+' '!/^#/ && NF && (NF != 5 || $1 !~ /^(build|ksrc|kernel|arm64|check|fresh|browser)$/ ||
	$2 !~ /^(any|amd64|arm64)$/) { print NR": "$0 }' "$list")
check_eq "packages.list: five tab-separated columns, known group and host" "$bad" ""
dups=$(awk -F '\t+' '!/^#/ && NF { print $3 }' "$list" | sort | uniq -d)
check_eq "packages.list: each package once" "$dups" ""

if "$setup" all 2>"$tmp/err"; then
	ok "setup.sh all: installed or present, every command on PATH"
else
	not_ok "setup.sh all (exit $?): $(cat "$tmp/err")"
fi
t0=$(date +%s%N)
"$setup" all 2>"$tmp/err"
check_eq "setup.sh all again: silent no-op ($((($(date +%s%N) - t0) / 1000000)) ms)" "$(cat "$tmp/err")" ""

# Bad cases, each one line (after the progress line, if any) and exit 2.
one_line() { # DESC RC PATTERN CMD...: exit RC, one stderr line matching PATTERN
	local desc=$1 want=$2 pat=$3 rc
	shift 3
	"$@" >/dev/null 2>"$tmp/err"
	rc=$?
	grep -v '^irqbench: installing ' "$tmp/err" >"$tmp/err1"
	if [ "$rc" = "$want" ] && [ "$(wc -l <"$tmp/err1")" = 1 ] && grep -qE "$pat" "$tmp/err1"; then
		ok "$desc"
	else
		not_ok "$desc (exit $rc, want $want)" "stderr: $(head -c 300 "$tmp/err")"
	fi
}
one_line "an unreadable list" 2 "cannot read /nonexistent" \
	env IRQBENCH_PACKAGE_LIST=/nonexistent "$setup" check
one_line "unknown group" 2 "unknown group 'nope'" "$setup" nope
one_line "no group" 2 "usage: setup.sh" "$setup"
one_line "--pkg outside the list's families" 2 "bash is not in" "$setup" --pkg bash
printf 'check\tany\tirqbench-no-such-package\t-\t\tthe test\n' >"$tmp/missing.list"
printf 'check\tany\tbash\t\tirqbench-no-such-command\tthe test\n' >"$tmp/nocmd.list"
one_line "a command missing after set-up is named with its package" 2 \
	'set-up incomplete: not on PATH: irqbench-no-such-command \(bash\)$' \
	env IRQBENCH_PACKAGE_LIST="$tmp/nocmd.list" "$setup" check
if command -v setpriv >/dev/null; then
	# A copy: the checkout may sit where nobody cannot reach it (/root).
	cp "$setup" "$tmp/setup.sh"
	one_line "not root, package missing: the apt-get command to run" 2 \
		'run as root: apt-get install -y --no-install-recommends irqbench-no-such-package$' \
		setpriv --reuid=65534 --regid=65534 --clear-groups \
		env IRQBENCH_PACKAGE_LIST="$tmp/missing.list" HOME="$tmp" "$tmp/setup.sh" check
else
	not_ok "setpriv missing (util-linux, in the kernel group)"
fi
one_line "a package apt does not have: apt's error" 2 \
	'apt-get install irqbench-no-such-package failed: E: Unable to locate package' \
	env IRQBENCH_PACKAGE_LIST="$tmp/missing.list" XDG_CACHE_HOME="$tmp/cache" "$setup" check
# apt cannot reach the archive: exit 3, "download failed" (the environment,
# not the package: run.sh bisect aborts instead of skipping every commit).
mkdir -p "$tmp/noapt"
printf '#!/bin/sh\necho "E: Failed to fetch http://deb.debian.org/debian/x.deb  Temporary failure resolving deb.debian.org" >&2\nexit 100\n' >"$tmp/noapt/apt-get"
chmod +x "$tmp/noapt/apt-get"
if [ "$(id -u)" -eq 0 ]; then
	one_line "apt cannot fetch: exit 3, download failed" 3 \
		'^irqbench: download failed: apt-get install irqbench-no-such-package: E: Failed to fetch' \
		env PATH="$tmp/noapt:$PATH" IRQBENCH_PACKAGE_LIST="$tmp/missing.list" XDG_CACHE_HOME="$tmp/cache" "$setup" check
else
	skip "apt cannot fetch: exit 3" "needs root (setup.sh installs only as root)"
fi

# One installer: no other file of the suite runs apt-get install or dpkg -i.
others=$(cd "$repo" && git grep -lE 'apt-get( -[a-zA-Z]+)* install|dpkg -i|ensure_pkgs' -- \
	':!lib/build/setup.sh' ':!*.md' ':!tests/test_setup.sh')
rc=$? # git grep: 1 = no match; 0 = a match, 128 = could not look
check_eq "no other installer in the suite (git grep exit $rc)" "$rc:$others" "1:"
tap_done

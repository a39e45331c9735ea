# shellcheck shell=bash
# Debian's archive beyond the machine's own apt sources (sourced by
# fetch-debian.sh and build-kvm-modules.sh, after common.sh).
#
# Kernel series come from two places:
#   system   the machine's apt sources as they are (bookworm here: 6.1, 6.12)
#   private  a private apt configuration under the cache naming the suites
#            in DEB_PRIVATE_SUITES (trixie 6.12, trixie-backports 7.x,
#            sid 7.x): ${IRQBENCH_CACHE:-.cache}/apt/<arch>/ with its own
#            sources.list, lists, package cache and an empty dpkg status.
#            The system's sources are never edited; packages from it are
#            only downloaded (apt-get download) and unpacked (dpkg -x) into
#            the cache, never installed.
# A series the system names is taken from it; any other from the private
# configuration (its lists are fetched once, ~21 MB, and on --refresh).
DEB_MIRROR=${IRQBENCH_DEBIAN_MIRROR:-http://deb.debian.org/debian}
DEB_PRIVATE_SUITES=${IRQBENCH_DEBIAN_SUITES:-trixie trixie-backports sid}

# deb_private_init ARCH: create the private configuration, set DAPT_DIR and
# DAPT_OPTS (the -o options every private apt-get/apt-cache call takes).
deb_private_init() {
	local arch=$1 s list
	DAPT_DIR=$CACHE_DIR/apt/$arch
	mkdir -p "$DAPT_DIR"/{lists/partial,archives/partial,cache,state,sources.list.d,preferences.d} ||
		die 3 "cannot create $DAPT_DIR"
	list=$(for s in $DEB_PRIVATE_SUITES; do
		echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $DEB_MIRROR $s main"
	done)
	# A changed suite list invalidates the lists.
	if [ "$(cat "$DAPT_DIR/sources.list" 2>/dev/null)" != "$list" ]; then
		echo "$list" >"$DAPT_DIR/sources.list"
		rm -f "$DAPT_DIR/.updated"
	fi
	[ -f "$DAPT_DIR/state/status" ] || : >"$DAPT_DIR/state/status"
	DAPT_OPTS=(-o "Dir::Etc::SourceList=$DAPT_DIR/sources.list"
		-o "Dir::Etc::SourceParts=$DAPT_DIR/sources.list.d"
		-o "Dir::Etc::Preferences=$DAPT_DIR/preferences"
		-o "Dir::Etc::PreferencesParts=$DAPT_DIR/preferences.d"
		-o "Dir::State=$DAPT_DIR/state" -o "Dir::State::Lists=$DAPT_DIR/lists"
		-o "Dir::State::status=$DAPT_DIR/state/status"
		-o "Dir::Cache=$DAPT_DIR/cache" -o "Dir::Cache::Archives=$DAPT_DIR/archives"
		-o Dir::Cache::pkgcache=pkgcache.bin -o Dir::Cache::srcpkgcache=
		-o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
		-o Acquire::Languages=none -o APT::Sandbox::User=root)
}

# deb_private_update ARCH [--refresh]: the private lists, fetched when
# missing (or asked to), under a lock (worktrees share the cache).
deb_private_update() {
	deb_private_init "$1"
	[ "${2:-}" = --refresh ] || [ ! -f "$DAPT_DIR/.updated" ] || return 0
	(
		flock 8 || exit 1
		[ "${2:-}" != --refresh ] && [ -f "$DAPT_DIR/.updated" ] && exit 0
		log "apt-get update of the private configuration ($DEB_PRIVATE_SUITES, $1) in $DAPT_DIR"
		apt-get "${DAPT_OPTS[@]}" -q update >&2 && touch "$DAPT_DIR/.updated"
	) 8>"$DAPT_DIR/.lock" || die 3 "download failed: apt-get update of $DAPT_DIR/sources.list (network?)"
}

# dapt WHERE COMMAND ARGS...: apt-get/apt-cache on the system (WHERE=system)
# or the private configuration (WHERE=private, after deb_private_init).
dapt() {
	local where=$1 cmd=$2
	shift 2
	if [ "$where" = private ]; then
		"$cmd" "${DAPT_OPTS[@]}" "$@"
	else
		"$cmd" "$@"
	fi
}

# deb_kvers WHERE ARCH SERIES: the kernel releases (KVER) of a series that
# WHERE lists, oldest first: linux-image-<KVER>[-unsigned] of the plain
# flavour (6.1.0-41-amd64, 6.12.118+deb12-amd64, 7.3.4+deb13-amd64).
deb_kvers() {
	local where=$1 arch=$2 s=${3//./\\.}
	dapt "$where" apt-cache pkgnames "linux-image-$3" 2>/dev/null |
		sed -nE "s/^linux-image-($s\\.[0-9]+(-[0-9]+)?(\\+deb[0-9]+)?-$arch)(-unsigned)?\$/\\1/p" |
		sort -uV || true
}

# deb_newest_ver WHERE PKG: the newest version of PKG WHERE knows.
deb_newest_ver() {
	dapt "$1" apt-cache show "$2" 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1 || true
}

# deb_suite WHERE PKG VERSION: the suite that has PKG at VERSION.
deb_suite() {
	dapt "$1" apt-cache madison "$2" 2>/dev/null |
		awk -F ' *[|] *' -v v="$3" '$2 == v { split($3, a, " "); sub(/\/.*/, "", a[2]); print a[2]; exit }' || true
}

# deb_where ARCH PKG: "system" when the machine's apt knows PKG, else
# "private" when the private lists do (fetching them if needed); nothing
# when neither does.
deb_where() {
	if apt-cache pkgnames "$2" 2>/dev/null | grep -qFx -- "$2"; then
		echo system
		return 0
	fi
	deb_private_update "$1"
	! dapt private apt-cache pkgnames "$2" 2>/dev/null | grep -qFx -- "$2" || echo private
}

# deb_depends WHERE PKG VERSION REGEX: the names PKG=VERSION depends on that
# match REGEX (alternatives and version constraints dropped).
deb_depends() {
	dapt "$1" apt-cache show "$2=$3" 2>/dev/null | sed -n '/^Depends: /{s/^Depends: //;p;q}' |
		tr ',|' '\n\n' | sed -E 's/^ +//; s/[ (].*//' | grep -E -- "$4" || true
}

# deb_fetch WHERE DIR PKG=VER...: download the packages into DIR (kept
# there: a second call downloads nothing) and unpack them all into DIR/root
# (replaced).  The caller holds the cache lock.
deb_fetch() {
	local where=$1 dir=$2 p
	shift 2
	mkdir -p "$dir" || die 3 "cannot create $dir"
	for p in "$@"; do
		# apt names a downloaded file <name>_<version with : as %3a>_<arch>.deb
		if ! ls "$dir/${p%%=*}_${p#*=}_"*.deb >/dev/null 2>&1 &&
			! ls "$dir/${p%%=*}_${p#*=}"*.deb >/dev/null 2>&1; then
			log "downloading $p ($where apt)"
			(cd "$dir" && dapt "$where" apt-get -q download "$p" >&2) ||
				die 3 "download failed: apt-get download $p (network?)"
		fi
	done
	rm -rf "$dir/root" "$dir/root.new"
	for p in "$dir"/*.deb; do
		dpkg -x "$p" "$dir/root.new" || die 3 "unpacking $p failed (disk full?)"
	done
	mv "$dir/root.new" "$dir/root" || die 3 "cannot rename $dir/root.new"
}

# deb_host_libs ARCH SUITE: the C library (and libelf, for objtool) of SUITE
# unpacked under the cache, for host tools built against a newer glibc than
# the machine's (the kbuild programs of a trixie-backports headers package).
# Prints the unpacked root.  Backports build against their base suite.
deb_host_libs() {
	local arch=$1 suite=${2%-backports} dir p v pkgs=()
	deb_private_update "$arch"
	dir=$CACHE_DIR/debian/host-libs-$suite-$arch
	if [ ! -f "$dir/.unpacked" ]; then
		for p in libc6 libelf1t64 zlib1g libzstd1; do
			v=$(dapt private apt-cache madison "$p" 2>/dev/null |
				awk -F ' *[|] *' -v s="$suite" '{ split($3, a, " "); sub(/\/.*/, "", a[2]) } a[2] == s { print $2; exit }')
			[ -n "$v" ] || die 3 "no $p in $suite"
			pkgs+=("$p=$v")
		done
		deb_fetch private "$dir" "${pkgs[@]}"
		touch "$dir/.unpacked"
	fi
	echo "$dir/root"
}

# deb_glibc_needed FILE: the newest GLIBC_x.y symbol version an ELF file
# asks for (empty when none).
deb_glibc_needed() {
	readelf --dyn-syms -W "$1" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' | sort -uV | tail -n1
}

# deb_wrap_new_glibc ROOT LIBROOT: every ELF program under ROOT that needs a
# newer glibc than the machine's is renamed PROG.bin and replaced by a
# script that runs it through LIBROOT's dynamic loader and libraries.
deb_wrap_new_glibc() {
	local root=$1 lib=$2 host f need n=0 ld
	host=$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)
	ld=$(ls "$lib"/lib*/ld-linux*.so.* "$lib"/usr/lib*/ld-linux*.so.* 2>/dev/null | head -n1)
	[ -n "$ld" ] || die 3 "no dynamic loader in $lib"
	while IFS= read -r f; do
		[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || continue
		need=$(deb_glibc_needed "$f")
		[ -n "$need" ] || continue
		[ "$(printf '%s\n%s\n' "$need" "$host" | sort -V | tail -n1)" = "$host" ] && continue
		mv "$f" "$f.bin"
		cat >"$f" <<EOT
#!/bin/sh
# irqbench: $f.bin needs glibc $need (this machine has $host): run it with
# the libraries of $lib.
exec $ld --argv0 "\$0" --library-path $lib/usr/lib/x86_64-linux-gnu:$lib/lib/x86_64-linux-gnu:$lib/usr/lib/aarch64-linux-gnu "\$0.bin" "\$@"
EOT
		chmod +x "$f"
		n=$((n + 1))
	done < <(find "$root" -type f -perm -u+x ! -name '*.bin')
	log "$n programs under $root run with the glibc of $lib"
}

# deb_source_tarball WHERE SERIES UPSTREAM: Debian's linux-source-SERIES of
# that upstream version (7.3.4): installed by the one set-up step when
# WHERE=system (/usr/src), downloaded and unpacked under the cache when
# WHERE=private.  Prints "TARBALL VERSION".
deb_source_tarball() {
	local where=$1 pkg=linux-source-$2 up=$3 srcver dir tarball
	if [ "$where" = system ]; then
		tarball=/usr/src/$pkg.tar.xz
		[ -f "$tarball" ] || install_pkg "$pkg"
		srcver=$(dpkg-query -W -f='${Version}' "$pkg")
	else
		srcver=$(dapt private apt-cache madison "$pkg" 2>/dev/null | awk -F ' *[|] *' -v u="$up" \
			'{ v = $2; sub(/-[^-]*$/, "", v) } v == u { print $2; exit }')
		[ -n "$srcver" ] || die 2 "no $pkg $up in $DEB_PRIVATE_SUITES"
		dir=$CACHE_DIR/debian/${pkg}_$srcver
		tarball=$dir/root/usr/src/$pkg.tar.xz
		if [ ! -f "$tarball" ]; then
			(flock 9 || exit 3; deb_fetch private "$dir" "$pkg=$srcver") 9>"$CACHE_DIR/debian/.lock" || exit $?
			rm -f "$dir"/*.deb # the tarball is the .deb's content
		fi
	fi
	[ "${srcver%%-*}" = "$up" ] ||
		die 2 "$pkg is $srcver, not the kernel's upstream version $up; install the matching source"
	echo "$tarball $srcver"
}

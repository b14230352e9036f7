#!/usr/bin/env bash
# srcinfo-oracle.sh — makepkg 6.0.2's own `--printsrcinfo` logic, for MANY PKGBUILDs in ONE bash
# process that loads libmakepkg (/usr/share/makepkg/*.sh) and makepkg.conf once.
#
# `makepkg --printsrcinfo` spends most of its ~0.5–3 CPU-s per call sourcing libmakepkg and
# makepkg.conf; this driver pays that once, then for every PKGBUILD directory and every CARCH it
# forks a subshell that repeats makepkg's steps for --printsrcinfo:
#   cd DIR; CARCH=<carch>; set startdir/BUILDFILE/SRCDEST…; unset the schema variables, their
#   `_<arch>` variants and the functions pkgver/prepare/build/check/package/package_*;
#   refuse a PKGBUILD holding CR (exit 12); `source_safe PKGBUILD` (extglob off, exit 6 on a
#   failing last status); pkgbase=${pkgbase:-${pkgname[0]}}; lint_pkgbuild (IGNOREARCH=1,
#   exit 12 on error); write_srcinfo_content.
# It writes, per directory and CARCH:
#   DIR/expected.<carch>.srcinfo   stdout of a successful run (byte-exact .SRCINFO text), or
#   DIR/expected.<carch>.error     "exit <code>" on the first line, then makepkg's stderr with the
#                                  directory path replaced by "$startdir" (lint/source errors).
# and removes the other (stale) file of the pair.
#
# Usage:
#   scripts/srcinfo-oracle.sh [--carch ARCH]... [--prune] [--timeout SECONDS] DIR...
#   scripts/srcinfo-oracle.sh [--carch ARCH]... --stdin     (one DIR per line on stdin)
#     --carch ARCH   architecture(s) to evaluate for (repeatable; default x86_64)
#     --prune        keep the outputs of the 2nd..nth CARCH only where they differ from the first
#     --timeout S    kill one PKGBUILD evaluation after S seconds (default 300; exit 124)
#
# makepkg refuses root. Invoked as root, the script copies each DIR into a private temp dir owned
# by ${MAKEPKG_USER:-rbeebuild}, re-runs itself there as that user with a scrubbed environment
# (`runuser -u rbeebuild -- env -i PATH=… HOME=<tmp> LC_ALL=C bash …`) and copies the expected.*
# files back.
#
# Validated equal (stdout byte-for-byte, exit code, stderr modulo the directory path) to the
# real makepkg run as:
#   cd DIR && runuser -u rbeebuild -- env -i PATH=/usr/bin:/bin HOME=/tmp LC_ALL=C CARCH=<carch> \
#       makepkg --printsrcinfo
# makepkg honours CARCH from the environment: load_makepkg_config saves CARCH (with PKGDEST,
# SRCDEST, …) before sourcing /etc/makepkg.conf and restores it afterwards, so no --config
# override is needed. `scripts/srcinfo-oracle.sh --validate DIR...` runs that comparison.
# Last validation (2026-11-27, makepkg 6.0.2-3, bash 5.2.15): identical on split-heredoc-false-positive,
# split-pkgname-leak, split-if-else-last-wins, basic-all-arrays, dyn-echo-top (x86_64 .SRCINFO),
# rej-many-errors (exit 12 + stderr), case-carch and if-carch (aarch64): 8/8.
#
# Speed: lint_pkgbuild and the .SRCINFO writer call libmakepkg's extract_function_variable hundreds
# of times per PKGBUILD, each forking a pipeline and exec'ing grep. This driver redefines that
# function and grep_function without the forks, keeping their text processing: the same locals,
# the same eval of every matching line, and the same POSIX ERE under LC_ALL=C. That cuts the forks
# per PKGBUILD about 50-fold. `--pure` keeps libmakepkg's definitions.
#
# Requires bash and Debian's makepkg 6.0.2 (/usr/share/makepkg). Exit status: 0 when every
# directory was evaluated (whatever makepkg's verdict), 2 on usage errors, 3 when makepkg is absent.

if [[ ${1-} == --help || ${1-} == -h ]]; then
	sed -n '2,/^$/p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
fi

__o_lib=${LIBRARY:-/usr/share/makepkg}
if [[ ! -r $__o_lib/srcinfo.sh || ! -r $__o_lib/lint_pkgbuild.sh ]]; then
	echo "srcinfo-oracle: makepkg's library $__o_lib is missing (install Debian's makepkg 6.0.2)" >&2
	exit 3
fi

__o_carches=()
__o_dirs=()
__o_prune=0
__o_stdin=0
__o_validate=0
__o_pure=0
__o_timeout=300
__o_args=("$@")
while (($#)); do
	case $1 in
		--carch) __o_carches+=("${2:?--carch needs a value}"); shift 2 ;;
		--prune) __o_prune=1; shift ;;
		--stdin) __o_stdin=1; shift ;;
		--validate) __o_validate=1; shift ;;
		--pure) __o_pure=1; shift ;;
		--timeout) __o_timeout=${2:?--timeout needs a value}; shift 2 ;;
		--) shift; __o_dirs+=("$@"); break ;;
		-*) echo "srcinfo-oracle: unknown option $1" >&2; exit 2 ;;
		*) __o_dirs+=("$1"); shift ;;
	esac
done
((${#__o_carches[@]})) || __o_carches=(x86_64)
if ((__o_stdin)); then
	while IFS= read -r __o_line; do [[ $__o_line ]] && __o_dirs+=("$__o_line"); done
fi
for __o_d in "${__o_dirs[@]}"; do
	[[ -f $__o_d/PKGBUILD ]] || { echo "srcinfo-oracle: $__o_d/PKGBUILD does not exist" >&2; exit 2; }
done

__o_user=${MAKEPKG_USER:-rbeebuild}
__o_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# --validate: compare this driver with the real makepkg on the given directories.
if ((__o_validate)); then
	__o_tmp=$(mktemp -d /tmp/srcinfo-oracle-validate.XXXXXX)
	chmod 755 "$__o_tmp"
	__o_fail=0
	__o_i=0
	for __o_d in "${__o_dirs[@]}"; do
		__o_i=$((__o_i + 1))
		mkdir -p "$__o_tmp/$__o_i/drv" "$__o_tmp/$__o_i/mk"
		cp -a "$__o_d/." "$__o_tmp/$__o_i/drv/"
		cp -a "$__o_d/." "$__o_tmp/$__o_i/mk/"
		rm -f "$__o_tmp/$__o_i"/*/expected.*
	done
	((EUID == 0)) && chown -R "$__o_user" "$__o_tmp"
	__o_cargs=()
	for __o_c in "${__o_carches[@]}"; do __o_cargs+=(--carch "$__o_c"); done
	bash "$0" "${__o_cargs[@]}" "$__o_tmp"/*/drv || exit $?
	__o_i=0
	for __o_d in "${__o_dirs[@]}"; do
		__o_i=$((__o_i + 1))
		for __o_c in "${__o_carches[@]}"; do
			__o_mk=$__o_tmp/$__o_i/mk
			__o_cmd=(env -i "PATH=$__o_path" HOME=/tmp LC_ALL=C "CARCH=$__o_c" makepkg --printsrcinfo)
			if ((EUID == 0)); then __o_cmd=(runuser -u "$__o_user" -- "${__o_cmd[@]}"); fi
			(cd "$__o_mk" && "${__o_cmd[@]}" >"$__o_mk/out" 2>"$__o_mk/err" </dev/null)
			__o_rc=$?
			if ((__o_rc == 0)); then
				if cmp -s "$__o_mk/out" "$__o_tmp/$__o_i/drv/expected.$__o_c.srcinfo"; then
					echo "SAME   $__o_d ($__o_c, srcinfo)"
				else
					echo "DIFFER $__o_d ($__o_c, srcinfo)"; __o_fail=1
					diff "$__o_mk/out" "$__o_tmp/$__o_i/drv/expected.$__o_c.srcinfo" | head -20
				fi
			else
				{ echo "exit $__o_rc"; sed "s|$__o_mk|\$startdir|g" "$__o_mk/err"; } >"$__o_mk/errfile"
				__o_drv=$__o_tmp/$__o_i/drv/expected.$__o_c.error
				if [[ -f $__o_drv ]] && cmp -s "$__o_mk/errfile" "$__o_drv"; then
					echo "SAME   $__o_d ($__o_c, error $__o_rc)"
				else
					echo "DIFFER $__o_d ($__o_c, error $__o_rc)"; __o_fail=1
					diff "$__o_mk/errfile" "$__o_drv" | head -20
				fi
			fi
		done
	done
	rm -rf "$__o_tmp"
	exit $__o_fail
fi

# Root: copy into a temp dir the build user can read, run there as that user, copy results back.
# Directories go in small batches (loading libmakepkg costs ~0.1 s; lint_pkgbuild costs seconds),
# so results land progressively.
if ((EUID == 0)); then
	__o_tmp=$(mktemp -d /tmp/srcinfo-oracle.XXXXXX)
	cp "$0" "$__o_tmp/oracle.sh"
	__o_cargs=(--timeout "$__o_timeout")
	for __o_c in "${__o_carches[@]}"; do __o_cargs+=(--carch "$__o_c"); done
	((__o_prune)) && __o_cargs+=(--prune)
	((__o_pure)) && __o_cargs+=(--pure)
	__o_rc=0
	__o_n=${#__o_dirs[@]}
	for ((__o_b = 0; __o_b < __o_n; __o_b += ${ORACLE_BATCH:-4})); do
		__o_batch=("${__o_dirs[@]:__o_b:${ORACLE_BATCH:-4}}")
		rm -rf "${__o_tmp:?}"/[0-9]* "$__o_tmp/list"
		__o_i=0
		for __o_d in "${__o_batch[@]}"; do
			__o_i=$((__o_i + 1))
			mkdir "$__o_tmp/$__o_i"
			cp -a "$__o_d/." "$__o_tmp/$__o_i/"
			rm -f "$__o_tmp/$__o_i"/expected.*.srcinfo "$__o_tmp/$__o_i"/expected.*.error
			echo "$__o_tmp/$__o_i" >>"$__o_tmp/list"
		done
		chmod -R a+rX "$__o_tmp"
		chown -R "$__o_user" "$__o_tmp"
		runuser -u "$__o_user" -- env -i "PATH=$__o_path" "HOME=$__o_tmp" LC_ALL=C \
			${MAKEPKG_CONF:+"MAKEPKG_CONF=$MAKEPKG_CONF"} \
			bash "$__o_tmp/oracle.sh" "${__o_cargs[@]}" --stdin <"$__o_tmp/list" || __o_rc=$?
		__o_i=0
		for __o_d in "${__o_batch[@]}"; do
			__o_i=$((__o_i + 1))
			for __o_c in "${__o_carches[@]}"; do
				rm -f "$__o_d/expected.$__o_c.srcinfo" "$__o_d/expected.$__o_c.error"
				for __o_f in "$__o_tmp/$__o_i/expected.$__o_c".*; do
					[[ -f $__o_f && $__o_f != *.tmp ]] && cp "$__o_f" "$__o_d/"
				done
			done
		done
	done
	rm -rf "$__o_tmp"
	exit $__o_rc
fi

export LC_ALL=C
unset LANG LANGUAGE CDPATH GREP_OPTIONS

# ---- what makepkg does once, before it reads the PKGBUILD ----
export TEXTDOMAIN='pacman-scripts' TEXTDOMAINDIR='/usr/share/locale' COMMAND_MODE='legacy'
declare -r makepkg_version='6.0.2' confdir='/etc' BUILDSCRIPT='PKGBUILD'
LIBRARY=$__o_lib
# makepkg's option flags as --printsrcinfo leaves them
ASDEPS=0 BUILDFUNC=0 BUILDPKG=0 CHECKFUNC=0 CLEANBUILD=0 CLEANUP=0 DEP_BIN=0 FORCE=0 GENINTEG=0
HOLDVER=0 IGNOREARCH=1 INFAKEROOT=0 INSTALL=0 LOGGING=0 NEEDED=0 NOARCHIVE=0 NOBUILD=0 NODEPS=0
NOEXTRACT=0 PKGFUNC=0 PKGVERFUNC=0 PREPAREFUNC=0 REPKG=0 REPRODUCIBLE=0 RMDEPS=0 SKIPCHECKSUMS=0
SKIPPGPCHECK=0 SIGNPKG='' SPLITPKG=0 SOURCEONLY=0 VERIFYSOURCE=0 PRINTSRCINFO=1 PACKAGELIST=0
PKGLIST=() PACMAN_OPTS=()
shopt -s extglob
for __o_l in "$LIBRARY"/*.sh; do
	# shellcheck disable=SC1090
	source "$__o_l"
done
load_makepkg_config
PACKAGER=${PACKAGER:-"Unknown Packager"}
PACMAN=${PACMAN:-pacman}
unset ALL_OFF BOLD BLUE GREEN RED YELLOW
if ((!__o_pure)); then
	# Two libmakepkg helpers are redefined, byte-for-byte equivalent but without forks/execs.
	# libmakepkg's grep_function is `{ declare -f "$1" || declare -f package; } | grep -E "$2"`,
	# called hundreds of times per PKGBUILD by lint_pkgbuild and the .SRCINFO writer; each call
	# forks a pipeline and execs grep. This equivalent keeps the same lines (grep -E and bash's
	# [[ =~ ]] are both POSIX EREs, and LC_ALL=C fixes [[:space:]]) without the pipeline or exec.
	# --pure keeps makepkg's own definition; --validate compares against real makepkg.
	__o_gf_dir=$(mktemp -d)
	__o_gf_n=0
	grep_function() {
		local __o_line __o_f=$__o_gf_dir/f.$BASHPID
		{ declare -f "$1" || declare -f package; } 2>/dev/null >"$__o_f"
		while IFS= read -r __o_line || [[ $__o_line ]]; do
			[[ $__o_line =~ $2 ]] && printf '%s\n' "$__o_line"
		done <"$__o_f"
		return 0
	}
	# libmakepkg's extract_function_variable, with its two forks removed: `$(shopt -p extglob)`
	# becomes `shopt -q` (same string), and `done < <(grep_function …)` reads a file that
	# grep_function wrote. Same locals, same eval of every matching line, same status.
	extract_function_variable() {
		local funcname=$1 attr=$2 isarray=$3 outputvar=$4 attr_regex= decl= r=1
		if (( isarray )); then
			printf -v attr_regex '^[[:space:]]* %s\+?=\(' "$2"
		else
			printf -v attr_regex '^[[:space:]]* %s\+?=[^(]' "$2"
		fi
		local shellopts
		if shopt -q extglob; then shellopts='shopt -s extglob'; else shellopts='shopt -u extglob'; fi
		shopt -s extglob
		__o_gf_n=$((__o_gf_n + 1))
		local __o_lines=$__o_gf_dir/l.$BASHPID.$__o_gf_n
		grep_function "$funcname" "$attr_regex" >"$__o_lines"
		while read -r; do
			decl=${REPLY##*([[:space:]])}
			eval "${decl/#$attr/$outputvar}"
			r=0
		done <"$__o_lines"
		eval "$shellopts"
		return $r
	}
fi
unset __o_l __o_args __o_stdin __o_validate

__o_status=0
for __o_d in "${__o_dirs[@]}"; do
	for __o_c in "${__o_carches[@]}"; do
		__o_out=$__o_d/expected.$__o_c.srcinfo
		__o_err=$__o_d/expected.$__o_c.error
		rm -f "$__o_out" "$__o_err"
		(
			cd -- "$__o_d" || exit 99
			CARCH=$__o_c
			declare -r startdir="$(pwd -P)"
			for __o_v in PKGDEST SRCDEST SRCPKGDEST LOGDEST BUILDDIR; do
				printf -v "$__o_v" '%s' "$(canonicalize_path "${!__o_v:-$startdir}")"
			done
			unset __o_pure __o_v __o_d __o_c __o_dirs __o_carches __o_out __o_err __o_status __o_prune \
				__o_timeout __o_user __o_path __o_lib
			# the state makepkg clears before reading the PKGBUILD
			unset pkgname "${pkgbuild_schema_strings[@]}" "${pkgbuild_schema_arrays[@]}"
			unset "${known_hash_algos[@]/%/sums}"
			unset -f pkgver prepare build check package "${!package_@}"
			unset "${!makedepends_@}" "${!depends_@}" "${!source_@}" "${!checkdepends_@}"
			unset "${!optdepends_@}" "${!conflicts_@}" "${!provides_@}" "${!replaces_@}"
			unset "${!cksums_@}" "${!md5sums_@}" "${!sha1sums_@}" "${!sha224sums_@}"
			unset "${!sha256sums_@}" "${!sha384sums_@}" "${!sha512sums_@}" "${!b2sums_@}"
			BUILDFILE=$startdir/$BUILDSCRIPT
			if [[ $(<"$BUILDFILE") = *$'\r'* ]]; then
				error "$(gettext "%s contains %s characters and cannot be sourced.")" "$BUILDSCRIPT" "CRLF"
				exit "$E_PKGBUILD_ERROR"
			fi
			source_safe "$BUILDFILE"
			pkgbase=${pkgbase:-${pkgname[0]}}
			lint_pkgbuild || exit "$E_PKGBUILD_ERROR"
			write_srcinfo_content
			exit "$E_OK"
		) >"$__o_out.tmp" 2>"$__o_err.tmp" </dev/null &
		__o_pid=$!
		(
			sleep "$__o_timeout" &
			__o_s=$!
			trap 'kill "$__o_s" 2>/dev/null; exit 0' TERM
			wait "$__o_s"
			kill -9 "$__o_pid"
		) 2>/dev/null &
		__o_wd=$!
		wait "$__o_pid"
		__o_rc=$?
		kill "$__o_wd" 2>/dev/null
		wait "$__o_wd" 2>/dev/null
		((__o_rc == 137)) && __o_rc=124
		if ((__o_rc == 0)); then
			mv -f "$__o_out.tmp" "$__o_out"
			rm -f "$__o_err.tmp"
		else
			__o_abs=$(cd -- "$__o_d" && pwd -P)
			{ echo "exit $__o_rc"; sed "s|$__o_abs|\$startdir|g" "$__o_err.tmp"; } >"$__o_err"
			rm -f "$__o_out.tmp" "$__o_err.tmp"
		fi
	done
	if ((__o_prune && ${#__o_carches[@]} > 1)); then
		__o_first=${__o_carches[0]}
		for __o_c in "${__o_carches[@]:1}"; do
			for __o_x in srcinfo error; do
				if [[ -f $__o_d/expected.$__o_c.$__o_x ]] && cmp -s "$__o_d/expected.$__o_c.$__o_x" "$__o_d/expected.$__o_first.$__o_x"; then
					rm -f "$__o_d/expected.$__o_c.$__o_x"
				fi
			done
		done
	fi
done
[[ ${__o_gf_dir-} ]] && rm -rf "$__o_gf_dir"
exit $__o_status

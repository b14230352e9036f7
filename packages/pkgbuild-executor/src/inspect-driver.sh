# rbee pkgbuild-executor: inspect driver (run as `bash --noprofile --norc <this file> ARGS`, a script file so that $- is "hB" as in makepkg).
#
# Sources PKGBUILDs the way makepkg 6.0.2 does for --printsrcinfo and writes what it finds as
# NUL-terminated records on fd 3 (bash values cannot hold NUL, so every byte of a value survives).
# Arguments: OUTDIR CARCH CHOST TIMEOUT PKGBUILD... (TIMEOUT: seconds per file, 0 = none); OUTDIR receives each file's top-level stdout/stderr
# (<i>.out / <i>.err) so that nothing a PKGBUILD prints can mix with the records.
#
# Records (each field NUL-terminated):
#   F <i> <path>                          start of file <i>
#   V <name> s <value>                    a scalar variable
#   V <name> a <n> <v1>…<vn>              an indexed array
#   U <name> <declare -F line> <declare -f text>   a function (extdebug: "name line file")
#   B <pkgbase>                           pkgbase after makepkg's default
#   P <pkgname>                           start of one package section
#   O <name> s <value> | O <name> a <n> … an override the package function assigns
#   S <status>                            status of `source` (0 = sourced)
#   D                                     the file is done
#   T <i>                                 written by the parent when file <i> timed out
#   X <i> <subshell status>               written by the parent after each file

__rbee_outdir=$1
__rbee_carch=$2
__rbee_chost=$3
__rbee_timeout=$4
shift 4

# @include makepkg-lib.sh

# makepkg.conf-like settings visible to the top level (Arch defaults; CARCH/CHOST from arguments)
CARCH=$__rbee_carch
CHOST=$__rbee_chost
BUILDENV=(!distcc color !ccache check !sign)
OPTIONS=(strip docs !libtool !staticlibs emptydirs zipman purge debug lto)
INTEGRITY_CHECK=(sha256)
PKGEXT='.pkg.tar.zst'
SRCEXT='.src.tar.gz'
export TEXTDOMAIN='pacman-scripts' TEXTDOMAINDIR='/usr/share/locale' COMMAND_MODE='legacy'
unset CDPATH GREP_OPTIONS

__rbee_singlevalued_pkg=(pkgdesc url install changelog)
__rbee_multivalued_pkg=(arch groups license checkdepends depends optdepends provides conflicts replaces options backup)
__rbee_arch_attrs=(source provides conflicts depends replaces optdepends makedepends checkdepends
	cksums md5sums sha1sums sha224sums sha256sums sha384sums sha512sums b2sums)

# Names present before any PKGBUILD: not reported unless they are schema names. Builtins'
# output goes through a file and mapfile, never $(…): forks are the main cost of this driver.
declare -A __rbee_base_vars=()
compgen -v >"$__rbee_outdir/vars"
mapfile -t __rbee_names <"$__rbee_outdir/vars"
for __rbee_n in "${__rbee_names[@]}" FUNCNAME startdir BUILDFILE BUILDDIR SRCDEST PKGDEST SRCPKGDEST LOGDEST \
	OLDPWD PWD REPLY _ COLUMNS LINES PIPESTATUS; do __rbee_base_vars[$__rbee_n]=1; done
__rbee_schema=(pkgname pkgbase pkgver pkgrel epoch pkgdesc url install changelog arch groups license
	checkdepends makedepends depends optdepends provides conflicts replaces noextract options backup
	source validpgpkeys cksums md5sums sha1sums sha224sums sha256sums sha384sums sha512sums b2sums
	CARCH CHOST)

__rbee_emit_var() {
	# $1: variable name; $2: record kind (V, or O for an override); $3: name to report
	local __rbee_kind=${2:-V} __rbee_label=${3:-$1}
	local -n __rbee_ref=$1
	if [[ ${__rbee_ref@a} = *A* ]]; then
		return 0
	elif [[ ${__rbee_ref@a} = *a* ]]; then
		__rbee_rec "$__rbee_kind" "$__rbee_label" a "${#__rbee_ref[@]}" "${__rbee_ref[@]}"
	elif [[ -v __rbee_ref ]]; then
		__rbee_rec "$__rbee_kind" "$__rbee_label" s "$__rbee_ref"
	fi
}

__rbee_source_safe() {
	# makepkg's source_safe: a plain `source` with extglob off, inside a function (so `declare`
	# at the PKGBUILD's top level creates locals of this function, exactly as in makepkg).
	shopt -u extglob
	source "$1"
	__rbee_st=$?
	shopt -s extglob
}

# makepkg's override extraction, reimplemented: the lines of `declare -f package_<name>` (or of
# `declare -f package` when that function does not exist) that match
# ^[[:space:]]* NAME\+?=\(  (arrays) or  ^[[:space:]]* NAME\+?=[^(]  (scalars)
# are eval'ed in order, NAME renamed to the output variable, after the global value has been
# copied in; `pkgname` is the current package while they run (dynamic scope, as in makepkg).
__rbee_get_attr() {
	# $1 pkgname (empty for global) $2 attr $3 isarray; result in outvalue, status 0 if the
	# package function assigns it.
	local pkgname=$1 attr=$2 isarray=$3 __rbee_re __rbee_line __rbee_decl __rbee_r=1
	if (( isarray )); then
		outvalue=()
		if declare -p "$attr" &>/dev/null; then
			local -n __rbee_g=$attr
			(( ${#__rbee_g[@]} )) && outvalue=("${__rbee_g[@]}")
			unset -n __rbee_g
		fi
		printf -v __rbee_re '^[[:space:]]* %s\\+?=\\(' "$attr"
	else
		outvalue=
		[[ ${!attr} ]] && outvalue=${!attr}
		printf -v __rbee_re '^[[:space:]]* %s\\+?=[^(]' "$attr"
	fi
	[[ $pkgname ]] || return 1
	for __rbee_line in "${__rbee_fnlines[@]}"; do
		[[ $__rbee_line =~ $__rbee_re ]] || continue
		__rbee_decl=${__rbee_line##*([[:space:]])}
		eval "${__rbee_decl/#$attr/outvalue}"
		__rbee_r=0
	done
	return $__rbee_r
}

__rbee_extract() {
	# $1 pkgname $2 attr $3 isarray: one query of makepkg's pkgbuild_extract_to_srcinfo
	local outvalue=
	__rbee_get_attr "$1" "$2" "$3" && __rbee_emit_var outvalue O "$2"
}

__rbee_pkgarch_of() {
	local outvalue=
	__rbee_get_attr "$1" arch 1
	__rbee_pkgarch=("${outvalue[@]}")
}

__rbee_one() {
	# $1 index $2 PKGBUILD path; runs in a subshell.
	local __rbee_i=$1 __rbee_f=$2 __rbee_n
	exec >"$__rbee_outdir/$__rbee_i.out" 2>"$__rbee_outdir/$__rbee_i.err" </dev/null
	__rbee_rec F "$__rbee_i" "$__rbee_f"
	cd -P -- "${__rbee_f%/*}/" || { __rbee_rec S 1 D; exit 0; }
	startdir=$PWD
	BUILDFILE=$__rbee_f
	BUILDDIR=$startdir SRCDEST=$startdir PKGDEST=$startdir SRCPKGDEST=$startdir LOGDEST=$startdir
	unset srcdir pkgdir
	__rbee_st=0
	__rbee_source_safe "$__rbee_f"
	__rbee_rec S "$__rbee_st"
	if (( __rbee_st != 0 )); then __rbee_rec D; exit 0; fi
	set +o errexit +o nounset +o pipefail
	shopt -s extglob

	# variables: everything the PKGBUILD created, plus the schema names however they were set
	local -A __rbee_seen=()
	local -a __rbee_names
	compgen -v >"$__rbee_outdir/$__rbee_i.vars"
	mapfile -t __rbee_names <"$__rbee_outdir/$__rbee_i.vars"
	for __rbee_n in "${__rbee_names[@]}" "${__rbee_schema[@]}"; do
		[[ ${__rbee_seen[$__rbee_n]} ]] && continue
		__rbee_seen[$__rbee_n]=1
		[[ $__rbee_n = __rbee_* || $__rbee_n = BASH* ]] && continue
		if [[ ${__rbee_base_vars[$__rbee_n]} ]]; then
			in_array "$__rbee_n" "${__rbee_schema[@]}" || continue
			[[ $__rbee_n = CARCH || $__rbee_n = CHOST ]] && continue
		fi
		declare -p "$__rbee_n" &>/dev/null || continue
		__rbee_emit_var "$__rbee_n"
	done

	# functions: `declare -F` under extdebug gives "name line file" (this driver file for
	# this driver's own helpers, the PKGBUILD's path for anything it defined, eval included);
	# the text goes straight to fd 3.
	compgen -A function >"$__rbee_outdir/$__rbee_i.funcs"
	mapfile -t __rbee_names <"$__rbee_outdir/$__rbee_i.funcs"
	shopt -s extdebug
	for __rbee_n in "${__rbee_names[@]}"; do
		[[ $__rbee_n = __rbee_* ]] && continue
		__rbee_rec U "$__rbee_n"
		declare -F "$__rbee_n" >&$__rbee_fd
		printf '\0' >&$__rbee_fd
		declare -f "$__rbee_n" >&$__rbee_fd
		printf '\0' >&$__rbee_fd
	done
	shopt -u extdebug

	pkgbase=${pkgbase:-${pkgname[0]}}
	__rbee_rec B "$pkgbase"

	# package sections, in makepkg's order of attribute queries (srcinfo_write_package)
	local pkg __rbee_attr a __rbee_pkgarch
	local -a __rbee_fnlines
	for pkg in "${pkgname[@]}"; do
		__rbee_rec P "$pkg"
		{ declare -f "package_$pkg" || declare -f package; } >"$__rbee_outdir/$__rbee_i.fn" 2>/dev/null
		mapfile -t __rbee_fnlines <"$__rbee_outdir/$__rbee_i.fn"
		for __rbee_attr in "${__rbee_singlevalued_pkg[@]}"; do
			__rbee_extract "$pkg" "$__rbee_attr" 0
		done
		for __rbee_attr in "${__rbee_multivalued_pkg[@]}"; do
			__rbee_extract "$pkg" "$__rbee_attr" 1
		done
		__rbee_pkgarch_of "$pkg"
		for a in "${__rbee_pkgarch[@]}"; do
			[[ $a = any ]] && continue
			for __rbee_attr in "${__rbee_arch_attrs[@]}"; do
				__rbee_extract "$pkg" "${__rbee_attr}_$a" 1
			done
		done
	done
	__rbee_rec D
	exit 0
}

__rbee_i=0
for __rbee_f in "$@"; do
	if (( $# == 1 )); then
		# one file: no subshell needed (the process is this file's alone; Node reads its status)
		__rbee_one 0 "$__rbee_f"
	elif [[ $__rbee_timeout = 0 ]]; then
		( __rbee_one "$__rbee_i" "$__rbee_f" )
		__rbee_st=$?
	else
		# per-file watchdog: whichever of the file and `sleep TIMEOUT` ends first wins
		( __rbee_one "$__rbee_i" "$__rbee_f" ) &
		__rbee_pid=$!
		sleep "$__rbee_timeout" &
		__rbee_wd=$!
		__rbee_done=
		wait -n -p __rbee_done "$__rbee_pid" "$__rbee_wd"
		__rbee_st=$?
		if [[ $__rbee_done = "$__rbee_wd" ]]; then
			kill -KILL "$__rbee_pid" 2>/dev/null
			wait "$__rbee_pid" 2>/dev/null
			__rbee_st=137
			__rbee_rec T "$__rbee_i"
		else
			kill "$__rbee_wd" 2>/dev/null
			wait "$__rbee_wd" 2>/dev/null
		fi
	fi
	__rbee_rec X "$__rbee_i" "$__rbee_st"
	__rbee_i=$((__rbee_i + 1))
done

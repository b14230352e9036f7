# rbee pkgbuild-executor: run driver (run as `bash --noprofile --norc <this file> ARGS`).
#
# Runs PKGBUILD functions with makepkg 6.0.2's semantics: each function is called plainly (never
# under if/&&/||) with errexit and errtrace on and an ERR trap, no pipefail, cwd = $srcdir,
# umask 022, extglob on; srcdir/pkgdir/startdir/pkgname/pkgbase/pkgver/pkgrel/epoch/CARCH are
# shell variables, only makepkg's build variables are exported.
#
# Arguments: PHASE PKGBUILD STARTDIR SRCDIR PKGDIRBASE SCRATCH MARK CARCH FUNCTION...
#   PHASE      build   (FUNCTIONs among prepare pkgver build check, in that order)
#              package (runs package() or each package_<name>(); FUNCTION args are unused)
#   PKGDIRBASE each package goes to $PKGDIRBASE/<name>, unless SCRATCH/pkgdirs (NUL-separated
#              name/dir pairs) names another directory; the name ":build" sets $pkgdir during
#              build() (default $PKGDIRBASE/$pkgbase)
#   SCRATCH    private directory: the pkgver-updated PKGBUILD copy is written there
#   MARK       marker printed on stdout and stderr before each function (output attribution)
# Records on fd 3 (NUL-terminated fields):
#   START <fn> | END <fn> | FAIL <fn> <status> | SRCFAIL <status> | NOPKG <name>
#   PKGVER <version> <rewritten PKGBUILD or ''> | BADVER <version> <reason> | PKGDIR <name> <dir>
#   NOPKGDIR <name>   (a pkgdir record was given and has no entry for this package)
#   VER <pkgbase> <pkgver> <pkgrel> <epoch> <n> <pkgname 1..n>   (after sourcing)

# RBEE_EXECUTOR_GATE: a descriptor to wait on (a line "go") after sourcing, before any function
__rbee_gate=${RBEE_EXECUTOR_GATE-}
[[ $__rbee_gate =~ ^[0-9]+$ ]] || __rbee_gate=
unset RBEE_EXECUTOR_GATE
__rbee_phase=$1 __rbee_buildfile=$2 startdir=$3 srcdir=$4 __rbee_pkgdirbase=$5 __rbee_scratch=$6 __rbee_mark=$7 CARCH=$8
shift 8
__rbee_funcs=("$@")
declare -A __rbee_pkgdirs=()
if [[ -f $__rbee_scratch/pkgdirs ]]; then
	mapfile -d '' __rbee_v <"$__rbee_scratch/pkgdirs"
	for (( __rbee_i = 0; __rbee_i + 1 < ${#__rbee_v[@]}; __rbee_i += 2 )); do
		__rbee_pkgdirs[${__rbee_v[__rbee_i]}]=${__rbee_v[__rbee_i+1]}
	done
	unset __rbee_v __rbee_i
fi

# @include makepkg-lib.sh

# makepkg.conf-like settings (Arch defaults, minus debug packages which this executor does not make)
BUILDENV=(!distcc color !ccache check !sign)
OPTIONS=(strip docs !libtool !staticlibs emptydirs zipman purge !debug lto)
BUILDDIR=$startdir SRCDEST=$startdir PKGDEST=$startdir SRCPKGDEST=$startdir LOGDEST=$startdir
BUILDFILE=$__rbee_buildfile
# The build flags arrive in the environment; like makepkg, they are exported only from
# prepare_buildenv on (prepare() and pkgver() see them as shell variables).
export -n CPPFLAGS CFLAGS CXXFLAGS LDFLAGS RUSTFLAGS MAKEFLAGS LTOFLAGS
unset CDPATH GREP_OPTIONS
umask 0022

__rbee_prepare_buildenv() {
	if check_option buildflags n; then
		unset CPPFLAGS CFLAGS DEBUG_CFLAGS CXXFLAGS DEBUG_CXXFLAGS LDFLAGS LTOFLAGS RUSTFLAGS
	fi
	if check_option makeflags n; then
		unset MAKEFLAGS
	fi
	if check_option lto y && ! check_option buildflags n; then
		CFLAGS+=" ${LTOFLAGS:--flto}"
		CXXFLAGS+=" ${LTOFLAGS:--flto}"
		LDFLAGS+=" ${LTOFLAGS:--flto}"
	fi
	export CPPFLAGS CFLAGS CXXFLAGS LDFLAGS RUSTFLAGS MAKEFLAGS CHOST
}

__rbee_source_safe() {
	shopt -u extglob
	source "$1"
	__rbee_st=$?
	shopt -s extglob
	if (( __rbee_st != 0 )); then
		__rbee_rec SRCFAIL "$__rbee_st"
		exit 6
	fi
}

__rbee_error_function() {
	# makepkg's error_function: leave every subshell, report once from the top shell. The
	# failing command's status is kept (makepkg exits 4) so callers see the real cause.
	local __rbee_status=$?
	(( __rbee_status == 0 )) && __rbee_status=1
	if (( ! BASH_SUBSHELL )); then
		__rbee_rec FAIL "$1" "$__rbee_status"
	fi
	exit "$__rbee_status"
}

__rbee_marker() {
	printf '%s%s\n' "$__rbee_mark" "$1"
	printf '%s%s\n' "$__rbee_mark" "$1" >&2
}

# shopt state restored after each function, as run_function_safe does (file + source: no fork)
__rbee_save_shopts() { shopt -p >"$__rbee_scratch/shopts"; }
__rbee_restore_shopts() { source "$__rbee_scratch/shopts"; }

__rbee_run_function_safe() {
	local -
	shopt -o -s errexit errtrace
	trap "__rbee_error_function '$1'" ERR
	cd_safe "$srcdir"
	"$1"
	trap - ERR
}

__rbee_run() {
	# $1: function. Called plainly, never in a condition.
	__rbee_marker "$1"
	__rbee_rec START "$1"
	__rbee_run_function_safe "$1"
	__rbee_restore_shopts
	__rbee_rec END "$1"
}

__rbee_check_pkgver() {
	# makepkg's check_pkgver: sets __rbee_why when invalid
	local ver=$1
	__rbee_why=
	if [[ -z $ver ]]; then
		__rbee_why='pkgver is not allowed to be empty.'
	elif [[ $ver = *[[:space:]/:-]* ]]; then
		__rbee_why='pkgver is not allowed to contain colons, forward slashes, hyphens or whitespace.'
	elif [[ $ver = *[![:ascii:]]* ]]; then
		__rbee_why='pkgver may only contain ascii characters.'
	fi
}

__rbee_update_pkgver() {
	local newpkgver __rbee_st __rbee_why
	__rbee_marker pkgver
	__rbee_rec START pkgver
	newpkgver=$(__rbee_run_function_safe pkgver)
	__rbee_st=$?
	if (( __rbee_st != 0 )); then
		__rbee_rec FAIL pkgver "$__rbee_st"
		exit 4
	fi
	__rbee_restore_shopts
	__rbee_check_pkgver "$newpkgver"
	if [[ $__rbee_why ]]; then
		__rbee_rec BADVER "$newpkgver" "$__rbee_why"
		exit 12
	fi
	if [[ -n $newpkgver && $newpkgver != "$pkgver" ]]; then
		# makepkg rewrites the PKGBUILD's pkgver= and pkgrel= lines and sources it again; we do
		# the same on a private copy and leave the caller's file alone.
		local -a __rbee_lines
		mapfile -t __rbee_lines <"$BUILDFILE"
		__rbee_lines=("${__rbee_lines[@]/#pkgver=*([^ ])/pkgver=$newpkgver}")
		__rbee_lines=("${__rbee_lines[@]/#pkgrel=*([^ ])/pkgrel=1}")
		printf '%s\n' "${__rbee_lines[@]}" >"$__rbee_scratch/PKGBUILD"
		BUILDFILE=$__rbee_scratch/PKGBUILD
		__rbee_source_safe "$BUILDFILE"
		pkgbase=${pkgbase:-${pkgname[0]}}
		__rbee_rec PKGVER "$newpkgver" "$BUILDFILE"
	else
		__rbee_rec PKGVER "$newpkgver" ''
	fi
	__rbee_rec END pkgver
}

__rbee_source_safe "$BUILDFILE"
pkgbase=${pkgbase:-${pkgname[0]}}
__rbee_rec VER "$pkgbase" "$pkgver" "$pkgrel" "${epoch-}" "${#pkgname[@]}" "${pkgname[@]}"
shopt -s extglob
__rbee_save_shopts

# started early (while the caller extracts the sources): wait for the word to go; the caller
# kills the tree instead when it will not come
if [[ $__rbee_gate ]]; then
	IFS= read -r -u "$__rbee_gate" __rbee_go || __rbee_go=
	eval "exec $__rbee_gate<&-"
	[[ $__rbee_go = go ]] || exit 7
	unset __rbee_go
fi
unset __rbee_gate

if [[ $__rbee_phase = build ]]; then
	# set pkgdir to something "sensible" for (not recommended) use during build(), as makepkg does
	pkgdir=${__rbee_pkgdirs[:build]:-${__rbee_pkgdirs[$pkgbase]:-$__rbee_pkgdirbase/$pkgbase}}
	__rbee_envready=
	for __rbee_fn in "${__rbee_funcs[@]}"; do
		have_function "$__rbee_fn" || continue
		case $__rbee_fn in
			pkgver) __rbee_update_pkgver ;;
			build|check)
				if [[ ! $__rbee_envready ]]; then __rbee_prepare_buildenv; __rbee_envready=1; fi
				__rbee_run "$__rbee_fn"
				;;
			*) __rbee_run "$__rbee_fn" ;;
		esac
	done
	exit 0
fi

# ---- package phase (under fakeroot when available) ----
__rbee_prepare_buildenv
__rbee_pkgvars=(pkgdesc arch url license groups depends optdepends provides conflicts replaces backup options install changelog)
__rbee_backup_package_variables() {
	local var
	for var in "${__rbee_pkgvars[@]}"; do
		eval "__rbee_backup_${var}=(\"\${$var[@]}\")"
	done
}
__rbee_restore_package_variables() {
	local var indirect
	for var in "${__rbee_pkgvars[@]}"; do
		indirect="__rbee_backup_${var}"
		if [[ -n ${!indirect} ]]; then
			eval "${var}=(\"\${$indirect[@]}\")"
		else
			unset "${var}"
		fi
	done
}
__rbee_pkgdir_for() {
	# $1: name
	if [[ -f $__rbee_scratch/pkgdirs && ! ${__rbee_pkgdirs[$1]+x} ]]; then
		__rbee_rec NOPKGDIR "$1"
		exit 5
	fi
	pkgdir=${__rbee_pkgdirs[$1]:-$__rbee_pkgdirbase/$1}
	mkdir -p -- "$pkgdir"
	__rbee_rec PKGDIR "$1" "$pkgdir"
}

if (( ${#pkgname[@]} > 1 )) || have_function "package_${pkgname}"; then
	for __rbee_n in "${pkgname[@]}"; do
		if ! have_function "package_$__rbee_n"; then
			__rbee_rec NOPKG "$__rbee_n"
			exit 5
		fi
	done
	__rbee_pkgname_backup=("${pkgname[@]}")
	__rbee_backup_package_variables
	for pkgname in "${__rbee_pkgname_backup[@]}"; do
		__rbee_pkgdir_for "$pkgname"
		__rbee_run "package_$pkgname"
		__rbee_restore_package_variables
	done
	pkgname=("${__rbee_pkgname_backup[@]}")
else
	if ! have_function package; then
		__rbee_rec NOPKG "$pkgname"
		exit 5
	fi
	__rbee_pkgdir_for "$pkgname"
	__rbee_run package
fi
exit 0

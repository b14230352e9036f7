# makepkg-lib.sh: included by inspect-driver.sh and run-driver.sh (drivers.ts expands the
# `# @include makepkg-lib.sh` line), so both see the same makepkg helpers.

# The records pipe arrives as fd 3; it moves to a high fd so that PKGBUILD code using fd 3
# (exec 3<>/dev/tcp/…, 3>&1) cannot clobber it.
exec {__rbee_fd}>&3 3>&-
__rbee_rec() { printf '%s\0' "$@" >&$__rbee_fd; }

# ---- makepkg's library functions a PKGBUILD may call at top level (uncoloured, as makepkg
# prints them when stderr is not a terminal) ----
gettext() { printf '%s\n' "$1"; }
plain() { local mesg=$1; shift; printf "    ${mesg}\n" "$@"; }
plainerr() { plain "$@" >&2; }
msg() { local mesg=$1; shift; printf "==> ${mesg}\n" "$@"; }
msg2() { local mesg=$1; shift; printf "  -> ${mesg}\n" "$@"; }
ask() { local mesg=$1; shift; printf ":: ${mesg}" "$@"; }
warning() { local mesg=$1; shift; printf "==> WARNING: ${mesg}\n" "$@" >&2; }
error() { local mesg=$1; shift; printf "==> ERROR: ${mesg}\n" "$@" >&2; }
colorize() { :; }
in_array() {
	local needle=$1 item; shift
	for item in "$@"; do [[ $item = "$needle" ]] && return 0; done
	return 1
}
have_function() { declare -f "$1" >/dev/null; }
is_array() { local v=$1; [[ ${!v@a} = *a* ]]; }
cd_safe() { cd "$1" || { error "Failed to change to directory %s" "$1"; exit 1; }; }
get_full_version() {
	if (( epoch > 0 )); then printf '%s\n' "$epoch:$pkgver-$pkgrel"; else printf '%s\n' "$pkgver-$pkgrel"; fi
}
__rbee_lookup_option() {
	# $1 option, $2.. list; sets __rbee_opt to y/n/? like makepkg's lookup (last entry wins).
	local want=$1 i; shift
	for (( i = $#; i > 0; i-- )); do
		case ${!i} in
			"$want") __rbee_opt=y; return ;;
			"!$want") __rbee_opt=n; return ;;
		esac
	done
	__rbee_opt='?'
}
check_option() {
	local __rbee_opt
	__rbee_lookup_option "$1" "${options[@]}"
	[[ $__rbee_opt = '?' ]] && __rbee_lookup_option "$1" "${OPTIONS[@]}"
	[[ $__rbee_opt = '?' ]] && return 127
	[[ $__rbee_opt = "$2" ]]
}
check_buildenv() {
	local __rbee_opt
	__rbee_lookup_option "$1" "${BUILDENV[@]}"
	[[ $__rbee_opt = '?' ]] && return 127
	[[ $__rbee_opt = "$2" ]]
}
check_buildoption() { check_option "$@"; }

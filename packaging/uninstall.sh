#!/bin/sh
# Remove what install.sh added, and nothing else: the files, links and folders listed in its
# manifest. Folders it created are removed only when empty; the MIME and desktop databases
# are rebuilt without heapgui's types (or removed, when install.sh created them).
#
#     sh ~/.local/lib/heapgui/uninstall.sh                  (or ./uninstall.sh in the archive)
#     sudo sh /usr/local/lib/heapgui/uninstall.sh           (or ./uninstall.sh --prefix /usr/local)
set -eu

usage="usage: uninstall.sh [--prefix DIR]"
die() {
	printf 'uninstall.sh: error: %s\n' "$*" >&2
	exit 2
}

prefix=
manifest= # --manifest FILE: install.sh taking back a failed installation
while [ $# -gt 0 ]; do
	case $1 in
	--prefix | --manifest)
		[ $# -ge 2 ] || die "$1 needs a value ($usage)"
		[ "$1" = --prefix ] && prefix=$2 || manifest=$2
		shift 2
		;;
	--prefix=*)
		prefix=${1#--prefix=}
		shift
		;;
	-h | --help)
		echo "$usage"
		exit 0
		;;
	*) die "unknown argument '$1' ($usage)" ;;
	esac
done
if [ -z "$manifest" ]; then
	here=$(cd "$(dirname "$0")" && pwd -P)
	if [ -n "$prefix" ]; then
		case $prefix in /*) ;; *) prefix=$(pwd -P)/$prefix ;; esac
		manifest=$prefix/lib/heapgui/install-manifest
	elif [ -f "$here/install-manifest" ]; then
		manifest=$here/install-manifest # the copy install.sh put beside the bundle
	else
		[ -n "${HOME:-}" ] || die "HOME is not set: give --prefix"
		manifest=$HOME/.local/lib/heapgui/install-manifest
	fi
	[ -f "$manifest" ] || die "$manifest does not exist: no heapgui installed there by install.sh"
fi
# Read it whole first: it lies inside the folder being removed.
entries=$(cat "$manifest")
tab=$(printf '\t')

created() { printf '%s\n' "$entries" | grep -qxF "dir$tab$1"; }
# Only derived caches are left in a database folder install.sh made once its sources are gone.
refresh_mime() {
	if created "$1" && [ -z "$(ls -A "$1/packages" 2>/dev/null)" ]; then
		rm -rf -- "$1"
	elif [ -d "$1/packages" ] && command -v update-mime-database >/dev/null; then
		update-mime-database "$1"
	fi
}
# $2 is "new" when install.sh's run made the cache: then one listing no program goes too.
refresh_desktop() {
	if [ -d "$1" ] && command -v update-desktop-database >/dev/null; then
		update-desktop-database "$1" || true
	fi
	if [ "$2" = new ] && [ "$(cat "$1/mimeinfo.cache" 2>/dev/null)" = "[MIME Cache]" ]; then
		rm -f -- "$1/mimeinfo.cache"
	fi
}

# Backwards: files before the folders holding them, caches after the files they index.
printf '%s\n' "$entries" | sed '1!G;h;$!d' | while IFS="$tab" read -r kind path; do
	case $kind in
	file) rm -f -- "$path" ;;
	link) [ ! -L "$path" ] || rm -f -- "$path" ;;
	tree)
		# A damaged manifest must not delete some other folder.
		[ "$(basename "$path")" = heapgui ] || die "$manifest: refusing to remove $path"
		rm -rf -- "$path"
		;;
	dir) rmdir -- "$path" 2>/dev/null || true ;; # kept when something else is in it now
	mime-database) refresh_mime "$path" ;;
	desktop-database) refresh_desktop "$path" old ;;
	new-desktop-database) refresh_desktop "$path" new ;;
	*) die "$manifest: unknown entry '$kind'" ;;
	esac
done
echo "removed heapgui (as listed in $manifest)"

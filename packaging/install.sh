#!/bin/sh
# Install the heapgui bundle that sits beside this script.
#
#     ./install.sh                          for this user, under ~/.local
#     sudo ./install.sh --prefix /usr/local for everyone
#
# Copies the bundle to PREFIX/lib/heapgui, links heapgui and heapgui-cli into PREFIX/bin and
# installs the desktop entry, icon, MIME types and AppStream metainfo into the data folder
# (PREFIX/share; for a user, $XDG_DATA_HOME when set). Every file and folder it adds is listed
# in PREFIX/lib/heapgui/install-manifest, which uninstall.sh reads to remove exactly those.
# The desktop entry is written here, in shell, rather than by running the bundle: installing
# as root runs no code from the bundle, and a machine without X11 libraries installs too.
set -eu

APP_ID=io.github.heapgui
usage="usage: install.sh [--prefix DIR]"
die() {
	printf 'install.sh: error: %s\n' "$*" >&2
	exit 2
}
# A path as one shell word, for the commands printed to the user.
shell_quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }
# Desktop Entry Specification: a value of type string escapes its backslashes...
desktop_string() { printf '%s' "$1" | sed 's/\\/\\\\/g'; }
# ...and an Exec argument doubles %, and is double-quoted, with " ` $ \ escaped inside,
# when it holds a space or a reserved character.
exec_argument() {
	argument=$(printf '%s' "$1" | sed 's/%/%%/g')
	if printf '%s' "$1" | grep -q "[ \"'\\\\><~|&;\$*?#()\`]"; then
		argument="\"$(printf '%s' "$argument" | sed 's/[\\"`$]/\\&/g')\""
	fi
	printf '%s' "$argument"
}

prefix=
while [ $# -gt 0 ]; do
	case $1 in
	--prefix)
		[ $# -ge 2 ] || die "--prefix needs a folder ($usage)"
		prefix=$2
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

here=$(cd "$(dirname "$0")" && pwd -P)
bundle=$here/heapgui
resources=$bundle/_internal/heapgui/resources
if [ -z "$prefix" ]; then
	[ -n "${HOME:-}" ] || die "HOME is not set: give --prefix"
	prefix=$HOME/.local
	share=${XDG_DATA_HOME:-}
	case $share in /*) ;; *) share=$prefix/share ;; esac # a relative value is invalid
else
	case $prefix in /*) ;; *) prefix=$(pwd -P)/$prefix ;; esac
	share=$prefix/share
fi
# Desktop entries cannot hold every character; the manifest is one path a line.
case $prefix$share in
*"$(printf '\t')"* | *"
"*) die "$prefix: a folder name with a tab or a line break cannot be installed to" ;;
esac
for name in heapgui heapgui-cli; do
	[ -x "$bundle/$name" ] || die "$bundle/$name is missing: unpack the whole archive"
done
for name in $APP_ID.desktop $APP_ID.svg $APP_ID.metainfo.xml heapgui-mime.xml 60-heapgui-probes.rules; do
	[ -f "$resources/$name" ] || die "$resources/$name is missing: unpack the whole archive"
done

libdir=$prefix/lib/heapgui
bindir=$prefix/bin
manifest=$libdir/install-manifest
entry=$share/applications/$APP_ID.desktop
icon=$share/icons/hicolor/scalable/apps/$APP_ID.svg
mime=$share/mime/packages/$APP_ID.xml
metainfo=$share/metainfo/$APP_ID.metainfo.xml

if [ -f "$manifest" ]; then
	echo "replacing the heapgui installed in $libdir"
	sh "$libdir/uninstall.sh" --prefix "$prefix" >/dev/null
elif [ -e "$libdir" ] || [ -L "$libdir" ]; then
	die "$libdir exists but install.sh did not make it: remove it or choose another --prefix"
fi
for path in "$bindir/heapgui" "$bindir/heapgui-cli" "$entry" "$icon" "$mime" "$metainfo"; do
	if [ -e "$path" ] || [ -L "$path" ]; then
		die "$path exists already (another heapgui installation, or heapgui --print-desktop-install?): remove it first (heapgui --print-desktop-uninstall prints the commands for the latter)"
	fi
done

# What was added so far, in order; on failure uninstall.sh takes it all back.
record=$(mktemp "${TMPDIR:-/tmp}/heapgui-install.XXXXXX")
finish() {
	status=$?
	if [ "$status" -ne 0 ] && [ -s "$record" ]; then
		echo "install.sh: failed; taking back what was installed" >&2
		sh "$here/uninstall.sh" --manifest "$record" >/dev/null || true
	fi
	rm -f "$record"
	exit "$status"
}
trap finish EXIT
trap 'exit 1' HUP INT TERM
add() { printf '%s\t%s\n' "$1" "$2" >>"$record"; }
# mkdir -p, noting each folder it creates.
make_dir() {
	[ -d "$1" ] && return 0
	make_dir "$(dirname "$1")"
	mkdir "$1"
	add dir "$1"
}

make_dir "$prefix/lib"
add tree "$libdir"
cp -RP "$bundle" "$libdir"
cp "$here/uninstall.sh" "$libdir/uninstall.sh"

make_dir "$bindir"
for name in heapgui heapgui-cli; do
	add link "$bindir/$name"
	ln -s "$libdir/$name" "$bindir/$name"
done

for path in "$entry" "$icon" "$mime" "$metainfo"; do
	make_dir "$(dirname "$path")"
done
# The caches are refreshed after the files they index are removed again (the manifest is
# read backwards), so these come before the files.
add mime-database "$share/mime"
if [ -e "$share/applications/mimeinfo.cache" ]; then
	add desktop-database "$share/applications"
else
	add new-desktop-database "$share/applications"
fi

add file "$entry"
program=$libdir/heapgui
command=$(desktop_string "$(exec_argument "$program")")
tryexec=$(desktop_string "$program")
while IFS= read -r line; do
	case $line in
	"Exec=heapgui "*) printf 'Exec=%s %s\n' "$command" "${line#Exec=heapgui }" ;;
	"TryExec=heapgui") printf 'TryExec=%s\n' "$tryexec" ;;
	*) printf '%s\n' "$line" ;;
	esac
done <"$resources/$APP_ID.desktop" >"$entry"
grep -q '^Exec=heapgui' "$entry" && die "$entry: the Exec line was not rewritten"
chmod 644 "$entry"
add file "$icon"
install -m 644 "$resources/$APP_ID.svg" "$icon"
add file "$mime"
install -m 644 "$resources/heapgui-mime.xml" "$mime"
add file "$metainfo"
install -m 644 "$resources/$APP_ID.metainfo.xml" "$metainfo"

if command -v update-mime-database >/dev/null; then
	update-mime-database "$share/mime"
fi
if command -v update-desktop-database >/dev/null; then
	update-desktop-database "$share/applications" || true # the MIME cache; optional
fi
cp "$record" "$manifest"
rm -f "$record"

rules=$libdir/_internal/heapgui/resources/60-heapgui-probes.rules
echo "installed heapgui in $libdir"
echo "    $bindir/heapgui and $bindir/heapgui-cli, the menu entry $entry"
case ":${PATH:-}:" in
*":$bindir:"*) ;;
*) echo "    $bindir is not on your PATH: add it, or start $bindir/heapgui" ;;
esac
echo
echo "To use USB debug probes as this user, install heapgui's udev rules (once, as root):"
echo "    sudo install -m 644 $(shell_quote "$rules") /etc/udev/rules.d/"
echo "    sudo udevadm control --reload-rules && sudo udevadm trigger"
echo "then unplug and replug the probe. heapgui-cli doctor checks the installation."
echo
echo "To uninstall: sh $(shell_quote "$libdir/uninstall.sh")"

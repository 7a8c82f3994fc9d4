#!/bin/sh
# Install the Debian packages p2pl needs to build, test and run its demo.
# A no-op when every package is present; uses sudo when not run as root.
set -eu

pkgs="build-essential pkg-config clang libclang-rt-14-dev
libsodium-dev libevent-dev libavformat-dev libavcodec-dev libavutil-dev
libcurl4-openssl-dev libncurses-dev
ffmpeg mpv opentracker tmux mandoc procps time iproute2 curl python3 bc openssl
man-db zsh librtsp-server-perl gnuplot-nox chromium python3-libtorrent"
# t0270 needs node and npm (for hls.js); any install of them will do, as
# a NodeSource nodejs (which has npm) conflicts with the npm package
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    pkgs="$pkgs nodejs npm"

missing=
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "install-deps: missing packages:$missing (run as root or install sudo)" >&2
	exit 1
fi

echo "install-deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >&2
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >&2

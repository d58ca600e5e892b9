#!/bin/sh
# Install the Debian packages listed in deploy/packages.txt that are missing.
# Runs apt-get update once, then apt-get install -y; uses sudo when not root.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
list="$here/packages.txt"
missing=""
for p in $(sed -e 's/#.*//' "$list"); do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0
echo "rldt: installing missing Debian packages:$missing" >&2
if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "rldt: error: need root or sudo to install:$missing" >&2
    echo "rldt: install them by hand (apt-get install$missing) and rerun make" >&2
    exit 1
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "rldt: error: apt-get not found; this project targets Debian 12. Missing:$missing" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing

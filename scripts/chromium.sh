#!/usr/bin/env bash
# Print the path of a headless Chromium for the report-page screenshot tests, fetching one if needed.
#
# Order: $TICKWISE_CHROMIUM, `chromium-headless-shell` or `chromium` on PATH, a copy fetched
# earlier into .venv/chromium, else (on Debian/Ubuntu, no root needed) `apt-get download` of
# Debian's chromium-headless-shell and the libraries a minimal machine lacks, unpacked with
# `dpkg -x` into .venv/chromium behind a wrapper that sets LD_LIBRARY_PATH. Prints nothing and
# exits 0 when none can be had (the screenshot tests then skip and say why); never fails the build.
set -uo pipefail
cd "$(dirname "$0")/.."
for candidate in "${TICKWISE_CHROMIUM:-}" "$(command -v chromium-headless-shell)" "$(command -v chromium)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; exit 0; fi
done
home=".venv/chromium"
wrapper="$home/headless-shell"
if [ ! -x "$wrapper" ]; then
    command -v apt-get >/dev/null && command -v dpkg >/dev/null || exit 0
    packages=(chromium-headless-shell chromium-common libasyncns0 libdouble-conversion3 libflac12
              libharfbuzz-subset0 libminizip1 libmp3lame0 libmpg123-0 libogg0 libopenh264-7 libopenjp2-7
              libopus0 libpulse0 libsndfile1 libvorbis0a libvorbisenc2 libxnvctrl0)
    mkdir -p "$home/deb" "$home/root"
    (cd "$home/deb" && timeout 300 apt-get download "${packages[@]}" >/dev/null 2>&1) || true
    ls "$home"/deb/chromium-headless-shell_*.deb >/dev/null 2>&1 || { rm -rf "$home"; exit 0; }
    for deb in "$home"/deb/*.deb; do dpkg -x "$deb" "$home/root"; done
    rm -rf "$home/deb"
    binary="$home/root/usr/lib/chromium/chromium-headless-shell"
    [ -x "$binary" ] || { rm -rf "$home"; exit 0; }
    libs="$(find "$home/root" -name '*.so*' -printf '%h\n' | sort -u | sed "s|^|$PWD/|" | paste -sd:)"
    printf '#!/bin/sh\nLD_LIBRARY_PATH="%s${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" exec "%s" "$@"\n' \
        "$libs" "$PWD/$binary" > "$wrapper"
    chmod +x "$wrapper"
fi
# Only a Chromium that starts counts (a library may still be missing on another system).
if timeout 30 "$wrapper" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1; then
    echo "$PWD/$wrapper"
fi

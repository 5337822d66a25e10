#!/usr/bin/env bash
# The browser tests (tests/browser) drive Debian's headless Chromium through chromedriver, and
# need a CJK font so the Chinese pages render in screenshots. Installs them when missing (as root,
# from Debian's registry); does nothing when they are present. Without root it only says so and
# the browser tests skip with the reason (outside CI).
set -u
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qiE 'wenquanyi|noto sans cjk|droid sans fallback' || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "browser tests need: ${missing[*]} (apt-get install as root)" >&2
  exit 0
fi
echo "installing ${missing[*]} for the browser tests" >&2
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
  apt-get update -q >/dev/null 2>&1
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "could not install ${missing[*]}" >&2; exit 1; }
fi

#!/usr/bin/env bash
# Cargo's runner for x86_64-pc-windows-gnu (set in .cargo/config.toml): runs a Windows
# executable under Wine with a throwaway prefix, after putting the test-only
# bcryptprimitives.dll (process_prng.c) beside it.
set -euo pipefail
exe=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
dll="$(dirname "$exe")/bcryptprimitives.dll"
if [ ! -f "$dll" ] || [ "$here/process_prng.c" -nt "$dll" ]; then
  x86_64-w64-mingw32-gcc -O2 -shared -o "$dll" "$here/process_prng.c" -ladvapi32
fi
wine=$(command -v wine64 || echo /usr/lib/wine/wine64)
export WINEDEBUG=${WINEDEBUG:--all}
export WINEPREFIX=${WINEPREFIX:-${CARGO_TARGET_DIR:-$here/../../target}/wine-prefix}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}
exec "$wine" "$exe" "$@"

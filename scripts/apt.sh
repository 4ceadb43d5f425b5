# Sourced by the scripts that install Debian packages: apt_install NAME... installs the ones
# that are missing (as root, or with sudo), after one `apt-get update`.

apt_install() {
  local missing=() p sudo="" native
  native=$(dpkg --print-architecture)
  for p in "$@"; do
    # dpkg-query, not dpkg -s: with a package installed for two architectures, as the
    # aarch64 release build does, `dpkg -s NAME` fails as ambiguous. And only the machine's
    # own architecture (or "all") counts: the release build's arm64 ALSA/JACK headers do not
    # serve a native build.
    dpkg-query -W -f='${Architecture} ${Status}\n' "$p" 2>/dev/null |
      grep -Eq "^($native|all) install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing system packages: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

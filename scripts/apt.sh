# Sourced by the scripts that install Debian packages: apt_install NAME... installs the ones
# that are missing (as root, or with sudo), after one `apt-get update`.

apt_install() {
  local missing=() p sudo=""
  for p in "$@"; do
    # dpkg-query, not dpkg -s: with a package installed for two architectures, as the
    # aarch64 release build does, `dpkg -s NAME` fails as ambiguous.
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
      missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  echo "installing system packages: ${missing[*]}"
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

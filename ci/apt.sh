# Sourced by ci/test and ./bootstrap (POSIX sh): which Debian packages are missing, and
# installing them — as root only, after saying which and how big.

apt_missing() {  # prints those of the given packages that are not installed
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

apt_install() {  # apt_install WHO PACKAGE...: announce, then install (2 when not root)
  who=$1
  shift
  if [ "$(id -u)" -ne 0 ]; then
    echo "$who: missing Debian packages: $*" >&2
    echo "$who: install them first: sudo apt-get install $*" >&2
    return 2
  fi
  echo "$who: reading the package lists (apt-get update) ..."
  apt-get update -q >/dev/null
  apt_plan "$who" "$@"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

apt_plan() {  # apt_plan WHO PACKAGE...: which packages, how many with dependencies, how big
  who=$1
  shift
  plan=$(LC_ALL=C apt-get install --assume-no "$@" 2>&1 || true)
  count=$(printf '%s\n' "$plan" | sed -n 's/.* \([0-9][0-9]*\) newly installed.*/\1/p')
  get=$(printf '%s\n' "$plan" | sed -n 's/^Need to get \([^ ]* [^ ]*\).*/\1/p')
  disk=$(printf '%s\n' "$plan" | sed -n 's/^After this operation, \([^ ]* [^ ]*\) of additional.*/\1/p')
  echo "$who: installing $# Debian package(s): $*"
  echo "$who:   ${count:-?} package(s) with their dependencies, ${get:-0 B} to download, ${disk:-0 B} on disk"
}

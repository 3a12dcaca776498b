# Installs the Debian packages poolbench needs, only when one is missing.
# Sourced by bench.sh and test.sh.

POOLBENCH_PACKAGES=(
  cmake g++ make pkg-config util-linux
  libbenchmark-dev libhwloc-dev hwloc libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libcli11-dev libtbb-dev libboost-dev libeigen3-dev
  python3 python3-matplotlib
  clang libclang-rt-14-dev clang-format clang-tidy
)

# Installs POOLBENCH_PACKAGES plus any packages named as arguments.
ensure_packages() {
  local missing=()
  local p
  for p in "${POOLBENCH_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "poolbench: installing ${missing[*]}" >&2
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "poolbench: run as root or install: ${missing[*]}" >&2; return 2; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# Configures and builds one CMake preset with every core; more arguments go to the build
# (e.g. --target NAME...).
build_preset() {
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$(nproc)" "${@:2}"
}

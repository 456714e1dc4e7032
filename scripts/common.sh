# Sourced by the benchmark scripts: SHARED (the shared fixtures, FDFAT_SHARED overrides), REF
# (the published checkpoints), a temporary WORK folder (removed on exit) and FDFAT, the binary
# (built in release unless FDFAT names one).
SHARED="${FDFAT_SHARED:-$(cd .. && pwd)/shared}"
REF="$SHARED/data/reference_checkpoints"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
if [ -z "${FDFAT:-}" ]; then
  cargo build --release --quiet
  FDFAT=target/release/fdfat
fi

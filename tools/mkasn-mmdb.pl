#!/usr/bin/perl
# mkasn-mmdb.pl - build tamperscope's default ASN database (GeoLite2-ASN layout) from ip-location-db CSV.
#
#   perl tools/mkasn-mmdb.pl --npm --out data/asn.mmdb
#       fetches the npm package @ip-location-db/asn with `npm pack` into a
#       temporary directory (nothing is installed), converts its
#       asn-ipv4.csv and asn-ipv6.csv, writes the MMDB.
#   perl tools/mkasn-mmdb.pl --out FILE asn-ipv4.csv asn-ipv6.csv
#       converts CSV files already at hand.
#   perl tools/mkasn-mmdb.pl --cidr FIRST LAST
#       prints the CIDR networks covering an inclusive range (tests).
#
# CSV rows: ip_range_start,ip_range_end,autonomous_system_number,
# autonomous_system_organization (RFC 4180 quoting).  The result has the
# GeoLite2-ASN fields autonomous_system_number (uint32) and
# autonomous_system_organization (utf8_string), IPv4 under ::/96 with the
# usual IPv6 aliases, so libmaxminddb finds IPv4 addresses either way.
#
# The data is CC BY 4.0: RouteViews (routeviews.org), DB-IP (db-ip.com)
# and NRO (nro.net), as merged by ip-location-db.  The attribution is
# written into the database's description.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin";
use AsnRange qw(range_to_cidrs parse_csv_line parse_v4 parse_v6
		v4_range_to_cidrs v6_range_to_cidrs);
use File::Temp qw(tempdir);
use Getopt::Long qw(GetOptions);
use Math::Int128 qw(uint128 net_to_uint128);
use MaxMind::DB::Writer::Tree;
use Socket qw(inet_pton AF_INET6);

# Inserting into an aliased range throws (the writer points ::ffff:0:0/96,
# 2001::/32 (Teredo) and 2002::/16 (6to4) at the IPv4 tree), and ::/96 is
# where the IPv4 rows live; the real IPv6 data holds 2001::/32 and 2002::/16
# rows, so networks inside these are skipped.
my @ALIASES = map { my ($n, $l) = split m{/}; [net_to_uint128(inet_pton(AF_INET6, $n)), $l] }
    ('::/96', '::ffff:0:0/96', '2001::/32', '2002::/16');

my %opt = (record_size => 24);
GetOptions(\%opt, 'out=s', 'npm', 'cidr', 'test', 'record_size|record-size=i',
	   'package=s', 'quiet') or usage();

if ($opt{cidr}) {
	usage() unless @ARGV == 2;
	my @nets = range_to_cidrs(@ARGV);
	die "mkasn-mmdb: not a range of one family: @ARGV\n" unless @nets;
	print "$_\n" for @nets;
	exit 0;
}
usage() unless $opt{out};

my $t0 = time;
my ($tmp, $pkg_version);
my @csv = @ARGV;
if ($opt{npm}) {
	($tmp, $pkg_version, @csv) = fetch_npm($opt{package} // '@ip-location-db/asn');
}
usage() unless @csv;

my $tree = new_tree($opt{test}, $opt{record_size}, $pkg_version);
my %stats = (rows => 0, bad => 0, networks => 0, skipped_alias => 0);
convert_file($tree, $_, \%stats) for @csv;

my $part = "$opt{out}.part";
open my $fh, '>:raw', $part or die "mkasn-mmdb: $part: $!\n";
$tree->write_tree($fh);
close $fh or die "mkasn-mmdb: $part: $!\n";
rename $part, $opt{out} or die "mkasn-mmdb: rename $part: $!\n";

printf STDERR "mkasn-mmdb: %s: %d rows, %d networks, %d bad rows, "
    . "%d networks skipped (IPv6 aliases of IPv4), %d s\n",
    $opt{out}, $stats{rows}, $stats{networks}, $stats{bad},
    $stats{skipped_alias}, time - $t0 unless $opt{quiet};
exit 0;

sub usage {
	print STDERR "usage: mkasn-mmdb.pl --out FILE [--test] [--record-size 24|28] "
	    . "(--npm | CSV...)\n       mkasn-mmdb.pl --cidr FIRST LAST\n";
	exit 2;
}

# npm's own reason for a failure (TLS, a proxy, the registry, a missing
# package): its "npm ERR!" / "npm error" lines, at most two, in one line.
sub npm_reason {
	my ($out) = @_;
	my @lines = grep { /\S/ } map { s/^npm (?:ERR!|error)\s*//r } grep { /^npm (?:ERR!|error)/ } split /\n/, $out;
	@lines = grep { !/^(?:A complete log|\s*\/.*debug.*\.log)/ } @lines;
	my $why = join('; ', grep { defined } @lines[0 .. ($#lines < 1 ? $#lines : 1)]);
	if ($why eq '') {
		($why) = grep { /\S/ } split /\n/, $out;
		$why //= "exit status " . ($? >> 8);
	}
	return $why;
}

# npm pack downloads the package tarball only (no install, no scripts run).
# A failure is told in npm's own words, and a passing network fault gets
# one more try.
sub fetch_npm {
	my ($name) = @_;
	my $dir = tempdir('tamperscope-asn-XXXXXX', TMPDIR => 1, CLEANUP => 1);
	system('sh', '-c', 'command -v npm >/dev/null 2>&1') == 0
	    or die "mkasn-mmdb: npm is not installed (apt install npm)\n";
	for my $try (1, 2) {
		my $out = `cd '$dir' && npm pack --silent '$name' 2>&1 >/dev/null`;
		last if $? == 0;
		my $why = npm_reason($out);
		die "mkasn-mmdb: npm pack $name failed again: $why\n" if $try == 2;
		print STDERR "mkasn-mmdb: npm pack $name failed: $why; trying once more\n";
		sleep 2;
	}
	my @tgz = glob("$dir/*.tgz");
	die "mkasn-mmdb: npm pack produced no tarball\n" unless @tgz == 1;
	system('tar', '-xzf', $tgz[0], '-C', $dir) == 0
	    or die "mkasn-mmdb: cannot unpack $tgz[0]\n";
	my $version = ($tgz[0] =~ /-(\d[\w.]*)\.tgz$/) ? $1 : 'unknown';
	my @csv = grep { -f } map { "$dir/package/$_" } qw(asn-ipv4.csv asn-ipv6.csv);
	die "mkasn-mmdb: no asn-ipv4.csv/asn-ipv6.csv in $tgz[0]\n" unless @csv;
	return ($dir, $version, @csv);
}

sub new_tree {
	my ($test, $record_size, $version) = @_;
	my %types = (autonomous_system_number => 'uint32',
		     autonomous_system_organization => 'utf8_string');
	my $src = $test ? 'tamperscope test data'
	    : 'IP to ASN data (c) RouteViews, DB-IP.com and NRO, CC BY 4.0, '
	      . 'via ip-location-db' . ($version ? " $version" : '');
	return MaxMind::DB::Writer::Tree->new(
		ip_version => 6,
		record_size => $record_size,
		database_type => 'GeoLite2-ASN',
		languages => ['en'],
		description => { en => "tamperscope ASN database: $src" },
		map_key_type_callback => sub { $types{ $_[0] } },
		alias_ipv6_to_ipv4 => 1,
		# test DBs use 198.18.0.0/15 and 127/8, which are reserved
		remove_reserved_networks => $test ? 0 : 1,
		merge_strategy => 'none',
	);
}

sub inside_alias {
	my ($net) = @_;
	my ($addr, $len) = split m{/}, $net;
	my $a = net_to_uint128(inet_pton(AF_INET6, $addr));
	for my $al (@ALIASES) {
		my ($base, $alen) = @$al;
		next if $len < $alen;
		my $shift = 128 - $alen;
		return 1 if ($a >> $shift) == ($base >> $shift);
	}
	return 0;
}

sub convert_file {
	my ($t, $path, $st) = @_;
	open my $in, '<:encoding(UTF-8)', $path or die "mkasn-mmdb: $path: $!\n";
	my %data; # one hash per (asn, org): the writer stores each once anyway
	while (my $line = <$in>) {
		next if $line =~ /^\s*(#|$)/;
		$st->{rows}++;
		my $f = parse_csv_line($line);
		if (!$f || @$f < 3 || $f->[2] !~ /^\d{1,10}$/ || $f->[2] > 4294967295) {
			next if $. == 1 && $line =~ /^ip_range_start/; # optional header
			$st->{bad}++;
			warn "mkasn-mmdb: $path:$.: bad row\n" if $st->{bad} <= 10;
			next;
		}
		my ($first, $last, $asn, $org) = @$f;
		$org //= '';
		my $d = $data{"$asn\0$org"} //= {
			autonomous_system_number => $asn + 0,
			autonomous_system_organization => $org,
		};
		insert_range($t, $first, $last, $d, $st, $path);
	}
	close $in;
}

sub insert_range {
	my ($t, $first, $last, $d, $st, $path) = @_;
	my ($x, $y) = (parse_v4($first), parse_v4($last));
	my @nets;
	my $v6 = 0;
	if (defined $x && defined $y) {
		@nets = v4_range_to_cidrs($x, $y);
	} else {
		($x, $y) = (parse_v6($first), parse_v6($last));
		@nets = v6_range_to_cidrs($x, $y) if defined $x && defined $y;
		$v6 = 1;
	}
	unless (@nets) {
		$st->{bad}++;
		warn "mkasn-mmdb: $path:$.: bad range $first - $last\n" if $st->{bad} <= 10;
		return;
	}
	for my $net (@nets) {
		if ($v6 && inside_alias($net)) {
			$st->{skipped_alias}++;
			next;
		}
		$t->insert_network($net, $d);
		$st->{networks}++;
	}
}

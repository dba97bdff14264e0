#!/usr/bin/perl
# mktest-mmdb.pl - write a small GeoLite2-ASN-style MMDB from a tiny CSV, for tests.
#
#   perl tools/mktest-mmdb.pl [--ipv4-only] [--no-alias] --out FILE [CSV]
#
# CSV rows (RFC 4180 quoting, '#' comments), either form:
#   198.18.1.0/24,9198,JSC Kazakhtelecom
#   198.18.2.0,198.18.2.127,21299,Kar-Tel LLC
# Reserved ranges (198.18.0.0/15, 127/8, 2001:db8::/32) are allowed, since
# test addresses live there.  --ipv4-only writes an ip_version 4 database,
# --no-alias an IPv6 one without the ::ffff:0:0/96 alias, so tests can check
# that IPv4 lookups work in every layout (IPv6 rows are skipped in an
# IPv4-only one).  Reads stdin without CSV.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin";
use AsnRange qw(range_to_cidrs parse_csv_line);
use Getopt::Long qw(GetOptions);
use MaxMind::DB::Writer::Tree;

my %opt;
GetOptions(\%opt, 'out=s', 'ipv4-only', 'no-alias') && $opt{out}
    or die "usage: mktest-mmdb.pl [--ipv4-only] [--no-alias] --out FILE [CSV]\n";

my %types = (autonomous_system_number => 'uint32',
	     autonomous_system_organization => 'utf8_string');
my $v4only = $opt{'ipv4-only'} ? 1 : 0;
my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version => $v4only ? 4 : 6,
	record_size => 24,
	database_type => 'GeoLite2-ASN',
	languages => ['en'],
	description => { en => 'tamperscope test ASN database' },
	map_key_type_callback => sub { $types{ $_[0] } },
	alias_ipv6_to_ipv4 => ($v4only || $opt{'no-alias'}) ? 0 : 1,
	remove_reserved_networks => 0,
	merge_strategy => 'none',
);

my $n = 0;
while (my $line = <>) {
	next if $line =~ /^\s*(#|$)/;
	my $f = parse_csv_line($line) or die "mktest-mmdb: line $.: bad quoting\n";
	my (@nets, $asn, $org);
	if ($f->[0] =~ m{/}) {
		@nets = ($f->[0]);
		($asn, $org) = @$f[1, 2];
	} else {
		@nets = range_to_cidrs($f->[0], $f->[1]);
		($asn, $org) = @$f[2, 3];
	}
	die "mktest-mmdb: line $.: bad row\n"
	    unless @nets && defined $asn && $asn =~ /^\d+$/;
	next if $v4only && $nets[0] =~ /:/; # one CSV serves every layout
	my $d = { autonomous_system_number => $asn + 0,
		  autonomous_system_organization => $org // '' };
	$tree->insert_network($_, $d) for @nets;
	$n += @nets;
}

open my $fh, '>:raw', $opt{out} or die "mktest-mmdb: $opt{out}: $!\n";
$tree->write_tree($fh);
close $fh or die "mktest-mmdb: $opt{out}: $!\n";

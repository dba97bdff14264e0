# AsnRange.pm - IP ranges to CIDR networks and CSV rows, shared by the MMDB tools.
#
# An inclusive range [first, last] is covered by the fewest CIDR networks:
# take the largest block that starts at `first` (limited by its alignment)
# and does not pass `last`, emit it, continue after it.  At most 2*bits-2
# networks result.  IPv4 uses native 64-bit integers (fast path for the
# 400 000 rows of the real data), IPv6 uses Math::Int128 (a dependency of
# MaxMind::DB::Writer, so always present with it).
package AsnRange;

use strict;
use warnings;

use Exporter 'import';
use Math::Int128 qw(uint128 net_to_uint128 uint128_to_net);
use Socket qw(inet_aton inet_ntoa inet_pton inet_ntop AF_INET6);

our @EXPORT_OK = qw(v4_range_to_cidrs v6_range_to_cidrs range_to_cidrs
		    parse_csv_line parse_v4 parse_v6);

# "a.b.c.d" -> integer, undef if not a dotted quad.
sub parse_v4 {
	my ($s) = @_;
	return undef unless defined $s && $s =~ /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
	return undef if $1 > 255 || $2 > 255 || $3 > 255 || $4 > 255;
	return ($1 << 24) | ($2 << 16) | ($3 << 8) | $4;
}

# IPv6 text -> uint128, undef if invalid.
sub parse_v6 {
	my ($s) = @_;
	return undef unless defined $s && $s =~ /:/;
	my $bin = inet_pton(AF_INET6, $s);
	return undef unless defined $bin;
	return net_to_uint128($bin);
}

sub v4_str { return inet_ntoa(pack('N', $_[0])); }
sub v6_str { return inet_ntop(AF_INET6, uint128_to_net($_[0])); }

# Inclusive IPv4 range (integers) -> list of "a.b.c.d/len".
sub v4_range_to_cidrs {
	my ($first, $last) = @_;
	my @out;
	return @out if $first > $last;
	while (1) {
		# the largest block aligned at $first ...
		my $host_bits = 32;
		if ($first != 0) {
			$host_bits = 0;
			$host_bits++ while $host_bits < 32 && !(($first >> $host_bits) & 1);
		}
		# ... that ends at or before $last
		$host_bits-- while $host_bits > 0 && $first + (1 << $host_bits) - 1 > $last;
		push @out, v4_str($first) . '/' . (32 - $host_bits);
		my $block_last = $first + (1 << $host_bits) - 1;
		last if $block_last >= $last;
		$first = $block_last + 1;
	}
	return @out;
}

my $U128_ONE = uint128(1);
my $U128_MAX = ~uint128(0);

# The last address of the block of 2^host_bits addresses starting at $first.
sub _v6_block_last {
	my ($first, $host_bits) = @_;
	return $U128_MAX if $host_bits >= 128;
	return $first + (($U128_ONE << $host_bits) - 1);
}

# Inclusive IPv6 range (uint128) -> list of "addr/len".
sub v6_range_to_cidrs {
	my ($first, $last) = @_;
	my @out;
	return @out if $first > $last;
	while (1) {
		my $host_bits = 128;
		if ($first != 0) {
			$host_bits = 0;
			$host_bits++ while $host_bits < 128 && !(($first >> $host_bits) & 1);
		}
		$host_bits-- while $host_bits > 0 && _v6_block_last($first, $host_bits) > $last;
		push @out, v6_str($first) . '/' . (128 - $host_bits);
		my $block_last = _v6_block_last($first, $host_bits);
		last if $block_last >= $last;
		$first = $block_last + 1;
	}
	return @out;
}

# Either family from text; () when the two ends are not the same family.
sub range_to_cidrs {
	my ($a, $b) = @_;
	my ($x, $y) = (parse_v4($a), parse_v4($b));
	return v4_range_to_cidrs($x, $y) if defined $x && defined $y;
	($x, $y) = (parse_v6($a), parse_v6($b));
	return v6_range_to_cidrs($x, $y) if defined $x && defined $y;
	return ();
}

# One RFC 4180 line (no embedded newlines) -> fields; undef on a broken
# quote.  The fast path covers the unquoted rows, most of the real data.
sub parse_csv_line {
	my ($line) = @_;
	$line =~ s/\r?\n\z//;
	return [split /,/, $line, -1] if index($line, '"') < 0;
	my @f;
	while (1) {
		if ($line =~ s/^"((?:[^"]|"")*)"(,|\z)//) {
			my ($v, $sep) = ($1, $2);
			$v =~ s/""/"/g;
			push @f, $v;
			last if $sep eq '';
		} elsif ($line =~ s/^([^",]*)(,|\z)//) {
			push @f, $1;
			last if $2 eq '';
		} else {
			return undef;
		}
	}
	return \@f;
}

1;

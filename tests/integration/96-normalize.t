# `ferry normalize` and `ferry hooks`: the operator's view of adapters.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use Test::More;

my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[provider oura]\nclient_id = oc\nclient_secret = os\n"
      . "[provider garmin]\nclient_id = gc\nclient_secret = gs\n"
      . "[provider withings]\nclient_id = wc\nclient_secret = ws\n");

sub lines {
    my ($out) = @_;
    return [ map { $FerryTest::JSON->decode($_) } grep { /\S/ } split /\n/,
        $out ];
}

# One line per Terra type, from a file.
for my $c (
    [ 'OURA', 'sleep', 'tests/fixtures/oura/sleep.json', 'sleep' ],
    [ 'oura', 'workout', 'tests/fixtures/oura/workout.json', 'activity' ],
    [ 'GARMIN', 'dailies', 'tests/fixtures/garmin/push_dailies.json',
        'daily' ],
    [ 'WITHINGS', 'getmeas', 'tests/fixtures/withings/getmeas.json', 'body' ],
  )
{
    my ($p, $kind, $file, $type) = @$c;
    my ($code, $out, $err) = $f->cli('normalize', $p, $kind, $file);
    is($code, 0, "normalize $p $kind: exit 0") or diag($err);
    my $l = eval { lines($out) } // [];
    ok(scalar(@$l) >= 1, '... prints JSON lines');
    my ($t) = grep { $_->{type} eq $type } @$l;
    ok($t && @{ $t->{data} } >= 1, "... with $type records");
    like($t->{data}[0]{metadata}{start_time} // '',
        qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$/,
        '... times with microseconds and an offset');
    unlike($out, qr/\d\.\d{16,}/, '... numbers without float noise');
}

# Standard input, when no file is given.
{
    my $pid = open(my $ph, '-|') // die "fork: $!";
    if ($pid == 0) {
        %ENV = $f->child_env;
        open(STDIN, '<', 'tests/fixtures/oura/sleep.json');
        exec(FerryTest::bin(), 'normalize', 'OURA', 'sleep', '--config',
            $f->conf);
    }
    local $/;
    my $out = <$ph>;
    close($ph);
    is($? >> 8, 0, 'normalize reads standard input');
    like($out, qr/^\{"type":"sleep","data":\[/, '... and prints the same');
}

my ($code, $out, $err) = $f->cli('normalize', 'OURA', '--help');
is($code, 0, 'normalize OURA --help');
like($out, qr/^\s+sleep\s+/m, '... lists the kinds');
($code, $out, $err) = $f->cli('normalize', 'OURA', 'nope',
    'tests/fixtures/oura/sleep.json');
is($code, 2, 'an unknown kind is a usage error, before reading');
like($err, qr/no payload kind 'nope'/, '... naming it');
like($out, qr/^\s+sleep\s+/m, '... and listing the kinds');
{
    my $empty = $f->dir . "/empty-page.json";
    open(my $fh, '>', $empty) or die $!;
    print $fh '{"data":[],"next_token":null}';
    close $fh;
    ($code, $out, $err) = $f->cli('normalize', 'OURA', 'sleep', $empty);
    is($code, 0, 'a page with no record is not an error');
    is($out, '', '... prints nothing on stdout');
    like($err, qr/holds no sleep record/, '... and says so on stderr');
}
($code, $out, $err) = $f->cli('normalize', 'FITBITX', 'sleep');
is($code, 2, 'a provider without an adapter is a usage error');
($code, $out, $err) = $f->cli('normalize', 'OURA', 'sleep',
    'tests/integration/96-normalize.t');
is($code, 1, 'a payload that is not JSON fails');
like($err, qr/not JSON/, '... saying so');
($code, $out, $err) = $f->cli('normalize', 'OURA', 'sleep', '/no/such/file');
is($code, 1, 'a missing file fails');
($code, $out, $err) = $f->cli('normalize', 'OURA', 'sleep',
    'tests/fixtures/oura/workout.json');
ok($code == 0 || $code == 1, 'a payload of another kind does not crash');

# The push URLs to give the providers.
($code, $out, $err) = $f->cli('hooks', '--json');
is($code, 0, 'ferry hooks --json') or diag($err);
my $h = eval { $FerryTest::JSON->decode($out) } // [];
my %url = map { $_->{provider} => $_->{url} } @$h;
like($url{OURA} // '', qr{/hooks/oura/[0-9a-f]{32}$}, '... the Oura URL');
like($url{GARMIN} // '', qr{/hooks/garmin/[0-9a-f]{32}$}, '... Garmin');
like($url{WITHINGS} // '', qr{/hooks/withings/[0-9a-f]{32}$}, '... Withings');
ok(!exists $url{SANDBOX}, '... none for SANDBOX, which is polled');
my ($tok) = ($url{WITHINGS} // '') =~ m{/([0-9a-f]{32})$};
($code, $out) = $f->cli('hooks', '--json');
is($out, $FerryTest::JSON->encode($h) . "\n", '... the same every time')
  or diag($out);

# A push with the wrong token is refused; Withings' probe with the right
# one is answered.
$f->start;
my $r = $f->request(HEAD => "/hooks/withings/$tok");
is($r->{status}, 200, "Withings' HEAD probe of the hook is answered");
$r = $f->request(POST => '/hooks/withings/' . ('0' x 32),
    headers => { 'content-type' => 'application/x-www-form-urlencoded' },
    body => 'userid=1&appli=1&startdate=1&enddate=2');
is($r->{status}, 401, 'a Withings push with a wrong path token: 401');
$r = $f->request(POST => '/hooks/garmin',
    headers => { 'content-type' => 'application/json' },
    body => '{"dailies":[]}');
is($r->{status}, 401, 'a Garmin push without its client id: 401');
$r = $f->request(POST => '/hooks/sandbox', body => '{}');
is($r->{status}, 404, 'SANDBOX has no push endpoint');
like($f->log_text, qr/event=push\.refused/, 'refusals are logged');
unlike($f->log_text, qr/\Q$tok\E/, 'the path token is not logged');
$f->stop;

# With no provider that pushes, `ferry hooks` says so.
{
    my $g = FerryTest->new(config => "[provider sandbox]\n");
    my ($c, $o, $e) = $g->cli('hooks');
    is($c, 0, 'ferry hooks with only SANDBOX: exit 0');
    is($o, '', '... no URL');
    like($e, qr/no enabled provider takes pushes/, '... and why, on stderr');
}

done_testing;

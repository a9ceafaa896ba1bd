# 90-destinations.t - destinations by CLI and API (add, list, remove,
# rotate-secret), the private-address rule, scoping between developers,
# and events show/replay on stored events.
#
# Every destination that may receive an event points at a receiver this
# test starts on 127.0.0.1: it answers 200, or 500 under /dead. The
# private-address refusals use only literals and localhost, which are
# refused before any connection is made.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use FerryTest;
use IO::Socket::INET;
use Test::More;
use Time::HiRes qw(sleep time);

my $JSON = $FerryTest::JSON;
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-
    [0-9a-f]{12}$/x;
my $SECRET = qr/^[0-9a-f]{64}$/;
my $ISO = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d$/;

# ---- a receiver: 200 for every request, 500 under /dead ----

sub receiver {
    my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
        Listen => 64, ReuseAddr => 1, Proto => 'tcp') or die "listen: $!";
    my $port = $srv->sockport;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        while (my $c = $srv->accept) {
            my $head = '';
            while (defined(my $line = <$c>)) {
                $head .= $line;
                last if $line eq "\r\n";
            }
            my ($len) = $head =~ /^content-length:\s*(\d+)/im;
            read($c, my $body, $len // 0);
            my $status = $head =~ m{^POST /dead} ? '500 Oops' : '200 OK';
            print $c "HTTP/1.1 $status\r\nContent-Length: 0\r\n"
              . "Connection: close\r\n\r\n";
            close($c);
        }
        exit 0;
    }
    close($srv);
    return ($pid, $port);
}

my ($rpid, $rport) = receiver();
my $hook = "http://127.0.0.1:$rport";
END { kill 'TERM', $rpid if $rpid }

sub api {
    my ($f, $dev, $method, $path, $body) = @_;
    return $f->request($method, $path,
        headers => FerryTest::auth_headers($dev),
        body => defined $body ? (ref $body ? $JSON->encode($body) : $body)
                              : undef);
}

sub add_event {
    my ($f, $dev, $id) = @_;
    my $now = int(time * 1e6);
    $f->sql("INSERT INTO events (id, dev_id, type, body, created_at)"
        . " VALUES ('$id', '$dev->{dev_id}', 'auth',"
        . " '{\"type\":\"auth\",\"ferry\":{\"event_id\":\"$id\"}}', $now)");
}

# Poll GET /v2/events/ID until every delivery has left the queue.
sub settled {
    my ($f, $dev, $id) = @_;
    my $r;
    my $deadline = time + 15;
    while (time < $deadline) {
        $r = api($f, $dev, GET => "/v2/events/$id");
        my @d = @{ $r->{json}{deliveries} // [] };
        return $r if @d && !grep { $_->{state} =~ /pending|in_flight/ } @d;
        sleep 0.1;
    }
    return $r;
}

# ---- private destinations refused (the default) ----

{
    my $f = FerryTest->new(config => "[provider sandbox]\n");
    $f->start;
    my $dev = $f->developer('private');
    for my $url ('http://127.0.0.1/x', 'http://127.1/x', 'http://localhost/x',
        'http://[::1]:8080/x', 'https://10.0.0.1/x',
        'http://169.254.169.254/latest')
    {
        my ($code, $out, $err) = $f->cli('destination', 'add',
            $dev->{dev_id}, 'webhook', $url);
        is($code, 1, "cli: $url is refused");
        like($err, qr/url: .*loopback, private or link-local/,
            '... naming url and why');
        my $r = api($f, $dev, POST => '/v2/destinations',
            { type => 'webhook', url => $url });
        FerryTest::is_error($r, 403, qr/^url: /, "api: $url is 403 naming url");
    }
    my $r = api($f, $dev, POST => '/v2/destinations',
        { type => 'postgres', url => 'postgresql://u:pw@10.0.0.1/db' });
    FerryTest::is_error($r, 403, qr/^url: /, 'a private postgres host too');
    unlike($r->{body}, qr/pw/, '... without echoing the password');
    is($f->sql('SELECT count(*) FROM destinations'), 0, 'nothing was stored');
    $f->stop;
}

# ---- everything else, with private destinations allowed ----

my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[security]\nallow_private_destinations = true\n"
      . "[deliver]\nretries = 0\n");
$f->start;
my $alpha = $f->developer('alpha');
my $beta = $f->developer('beta');
my $gamma = $f->developer('gamma'); # receives no event

# -- validation, naming the field --
my @bad = (
    [ {}, qr/^type: /, 'no type' ],
    [ { type => 'smtp', url => "$hook/x" }, qr/^type: /, 'an unknown type' ],
    [ { type => 'demo', url => 'demo:inbox' }, qr/^type: /, 'demo by hand' ],
    [ { type => 5, url => "$hook/x" }, qr/type/, 'a type that is no string' ],
    [ { type => 'webhook' }, qr/^url: /, 'no url' ],
    [ { type => 'webhook', url => '' }, qr/^url: /, 'an empty url' ],
    [ { type => 'webhook', url => 'ftp://127.0.0.1/x' }, qr/^url: /, 'ftp' ],
    [ { type => 'webhook', url => 'javascript:alert(1)' }, qr/^url: /,
      'javascript:' ],
    [ { type => 'webhook', url => "http://u:p\@127.0.0.1:$rport/x" },
      qr/^url: user-info/, 'user-info' ],
    [ { type => 'webhook', url => 'https:///x' }, qr/^url: /, 'no host' ],
    [ { type => 'webhook', url => "$hook/" . ('a' x 2048) },
      qr/^url: longer than 2048/, 'over 2048 bytes' ],
    [ { type => 'webhook', url => "$hook/a b" }, qr/^url: /, 'a space' ],
    [ { type => 's3', url => 'https://127.0.0.1/bucket' },
      qr/^access_key: /, 's3 without access_key' ],
    [ { type => 'webhook', url => 'http://127.0.0.1:0/x' },
      qr/^url: the port must be 1 to 65535/, 'port 0' ],
    [ { type => 'webhook', url => 'http://127.0.0.1:65536/x' },
      qr/^url: the port must be 1 to 65535/, 'port 65536' ],
    [ { type => 'webhook', url => 'http://127.0.0.1:000000080000/x' },
      qr/^url: the port must be 1 to 65535/, 'a long port' ],
    [ { type => 'webhook', url => "$hook/x#part" }, qr/^url: a fragment/,
      'a fragment' ],
    [ { type => 'webhook', url => "$hook/x", secret => 'mine' },
      qr/^secret: not a field of a destination/, 'an unknown member' ],
    [ { type => 'webhook', url => "$hook/x", region => 'eu-west-1' },
      qr/^region: only an s3 destination takes it/, 'an s3 member' ],
    [ { type => 'webhook', url => 'http://127.0.0.1:/x' },
      qr/^url: a ':' with no port/, 'an empty port' ],
    [ { type => 'webhook', url => "$hook/a%zz" },
      qr/^url: a '%' not followed by two hex digits/, 'a bad %-escape' ],
);
for my $c (@bad) {
    my $r = api($f, $alpha, POST => '/v2/destinations', $c->[0]);
    FerryTest::is_error($r, 400, $c->[1], "api: $c->[2] is 400 naming it");
}
FerryTest::is_error(api($f, $alpha, POST => '/v2/destinations', '{"type":'),
    400, qr/^body: /, 'a body that is not JSON');
FerryTest::is_error($f->request(GET => '/v2/destinations'), 401, undef,
    'no credentials: 401');
my ($code, $out, $err) = $f->cli('destination', 'add', $alpha->{dev_id},
    'webhook', 'ftp://127.0.0.1/x');
ok($code == 1 && $err =~ /url: must be an http/, 'cli: ftp refused');
($code, $out, $err) = $f->cli('destination', 'add', 'dev_nobody', 'webhook',
    "$hook/x");
ok($code == 1 && $err =~ /no developer/, 'cli: an unknown developer');
($code, $out, $err) = $f->cli('destination', 'add', $alpha->{dev_id});
is($code, 2, 'cli: too few arguments is a usage error');
like($err, qr/usage: destination add/, '... with the usage');

# -- add --
($code, $out, $err) = $f->cli('destination', 'add', $alpha->{dev_id}, 'webhook',
    "$hook/a1", '--json');
is($code, 0, 'cli add --json') or diag($err);
my $a1 = $JSON->decode($out);
is_deeply([ sort keys %$a1 ], [ 'id', 'secret' ], '... prints {id, secret}');
like($a1->{id}, $UUID, '... a UUID');
like($a1->{secret}, $SECRET, '... and 64 lower-case hex');
($code, $out, $err) = $f->cli('destination', 'add', $gamma->{dev_id},
    'webhook', "http://[::1]:$rport/v6");
is($code, 0, 'cli add (text), a bracketed IPv6 host') or diag($err);
my ($v6) = $out =~ /^id\s+(\S+)/m;
like($v6, $UUID, '... prints the id');
like($out, qr/^secret\s+[0-9a-f]{64}$/m, '... and the secret');
like($out, qr/shown only this once/, '... once');

($code, $out, $err) = $f->cli('destination', 'add', $alpha->{dev_id},
    'webhook', "http://127.0.0.1:0$rport/a1");
ok($code == 1 && $err =~ /url: destination \Q$a1->{id}\E already delivers/,
    'cli: the same URL again (the port spelt with a zero) is refused')
  or diag($err);
($code, $out, $err) = $f->cli('destination', 'add', $alpha->{dev_id},
    'webhook', "HTTP://127.0.0.1:$rport/a1");
ok($code == 1 && $err =~ /already delivers/, '... and in capitals');
my $r = api($f, $alpha, POST => '/v2/destinations',
    { type => 'webhook', url => "$hook/a1" });
FerryTest::is_error($r, 409, qr/^url: destination \Q$a1->{id}\E already/,
    'api: the same URL again is 409 naming the destination');
$r = api($f, $alpha, POST => '/v2/destinations',
    { type => 'webhook', url => "$hook/%61%31" });
FerryTest::is_error($r, 409, qr/^url: destination \Q$a1->{id}\E already/,
    '... and with its letters percent-encoded');
$r = api($f, $alpha, POST => '/v2/destinations',
    { type => 'webhook', url => "$hook/x/%2e%2E/a1" });
FerryTest::is_error($r, 409, qr/^url: destination \Q$a1->{id}\E already/,
    '... and through an encoded dot segment');
($code, $out, $err) = $f->cli('destination', 'add', $alpha->{dev_id},
    'webhook', "$hook/k1", '--access-key', 'AKIA');
ok($code == 1 && $err =~ /access_key: only an s3 destination takes it/,
    'cli: an s3 option on a webhook is refused') or diag($err);
$r = api($f, $beta, POST => '/v2/destinations',
    { type => 'webhook', url => "$hook/b1" });
is($r->{status}, 200, 'api add') or diag($r->{body});
is($r->{json}{status}, 'success', '... success');
like($r->{json}{secret}, $SECRET, '... with the secret');
my $b1 = $r->{json}{destination};
like($b1->{id}, $UUID, '... and the destination');
is($b1->{type}, 'webhook', '... its type');
is($b1->{url}, "$hook/b1", '... its url');
is($b1->{dev_id}, $beta->{dev_id}, '... its developer');
like($b1->{created_at}, $ISO, '... created_at ISO-8601');
ok(!defined $b1->{removed_at}, '... removed_at null');
ok(!exists $b1->{secret}, '... no secret inside');

my $raw = $f->sql("SELECT hex(secret) || hex(conf) FROM destinations"
    . " WHERE id = '$a1->{id}'");
my $hexsecret = uc unpack('H*', $a1->{secret});
ok(length $raw && index($raw, $hexsecret) < 0, 'the secret is stored sealed');

# -- list and scoping --
($code, $out, $err) = $f->cli('destination', 'list', '--json');
my $all = $JSON->decode($out);
is(scalar @$all, 3, 'cli list --json: every developer\'s');
is_deeply([ sort keys %{ $all->[0] } ],
    [ sort qw(id dev_id type url created_at removed_at secret_rotated_until) ],
    '... with the documented keys');
($code, $out, $err) = $f->cli('destination', 'list', '--dev', $beta->{dev_id},
    '--json');
is_deeply([ map { $_->{id} } @{ $JSON->decode($out) } ], [ $b1->{id} ],
    'cli list --dev');
($code, $out, $err) = $f->cli('destination', 'list');
like($out, qr/^ID\s+DEV_ID\s+TYPE/m, 'cli list: a table');
like($out, qr/\Q$hook\E\/a1/, '... with the url');

$r = api($f, $alpha, GET => '/v2/destinations');
is($r->{status}, 200, 'api list');
is_deeply([ map { $_->{id} } @{ $r->{json}{destinations} } ], [ $a1->{id} ],
    '... only the caller\'s');
$r = api($f, $beta, GET => '/v2/destinations');
is_deeply([ map { $_->{id} } @{ $r->{json}{destinations} } ], [ $b1->{id} ],
    '... for the other developer too');

FerryTest::is_error(api($f, $beta, DELETE => "/v2/destinations/$a1->{id}"), 404,
    qr/^id: /, 'another developer\'s destination cannot be removed');
FerryTest::is_error(
    api($f, $beta, POST => "/v2/destinations/$a1->{id}/rotate-secret"), 404,
    qr/^id: /, '... nor rotated');
FerryTest::is_error(api($f, $alpha, DELETE => '/v2/destinations/nope'), 404,
    qr/^id: /, 'an unknown id is 404');

# -- rotate --
$r = api($f, $alpha, POST => "/v2/destinations/$a1->{id}/rotate-secret");
is($r->{status}, 200, 'api rotate-secret') or diag($r->{body});
like($r->{json}{secret}, $SECRET, '... a new secret');
isnt($r->{json}{secret}, $a1->{secret}, '... not the old one');
($code, $out, $err) = $f->cli('destination', 'rotate-secret', $a1->{id},
    '--json');
is($code, 0, 'cli rotate-secret --json');
my $rot = $JSON->decode($out);
is($rot->{id}, $a1->{id}, '... the id');
like($rot->{secret}, $SECRET, '... and the secret');
($code, $out, $err) = $f->cli('destination', 'rotate-secret', 'nope');
ok($code == 1 && $err =~ /no destination/, 'cli rotate an unknown id');
$r = api($f, $alpha, GET => '/v2/destinations');
my ($shown) = grep { $_->{id} eq $a1->{id} } @{ $r->{json}{destinations} };
like($shown->{secret_rotated_until}, $ISO,
    'the old secret\'s grace shows in the list');

# -- events show and replay --
my $ev = '00000000-0000-4000-8000-00000000e001';
add_event($f, $alpha, $ev);
$r = settled($f, $alpha, $ev);
is($r->{status}, 200, 'GET /v2/events/{id}') or diag($r->{body});
is($r->{json}{event}{id}, $ev, '... the event');
is($r->{json}{event}{body}{type}, 'auth', '... with its body');
my @d = @{ $r->{json}{deliveries} };
is_deeply([ map { $_->{destination_id} } @d ], [ $a1->{id} ],
    '... a delivery to the developer\'s destination');
is_deeply([ map { $_->{state} } @d ], [ 'delivered' ], '... delivered');
my $at = $d[0]{attempt_log}[0];
ok($at && $at->{status} == 200 && $at->{n} == 1, '... with the attempt')
  or diag($JSON->encode($d[0]));
like($at->{at}, $ISO, '... its time');
ok(defined $at->{latency_ms}, '... and latency');

FerryTest::is_error(api($f, $beta, GET => "/v2/events/$ev"), 404, qr/^id: /,
    'another developer\'s event is 404');

# An event larger than the request memory (8 MiB) is still shown. delta
# has no destination, so nothing is delivered.
{
    my $delta = $f->developer('delta');
    my $big = '00000000-0000-4000-8000-00000000e0b1';
    my $now = int(time * 1e6);
    $f->sql("INSERT INTO events (id, dev_id, type, body, created_at)"
        . " VALUES ('$big', '$delta->{dev_id}', 'activity',"
        . " '{\"type\":\"activity\",\"data\":[{\"pad\":\"'"
        . " || replace(hex(zeroblob(6000000)), '0', 'x')"
        . " || '\"}],\"ferry\":{\"event_id\":\"$big\"}}', $now)");
    my $r = api($f, $delta, GET => "/v2/events/$big");
    is($r->{status}, 200, 'GET /v2/events/{id} of a 12 MB event');
    is(length($r->{json}{event}{body}{data}[0]{pad} // ''), 12_000_000,
        '... whole');
    ok($f->alive, '... and the server is still up');
}
FerryTest::is_error(api($f, $beta, POST => "/v2/events/$ev/replay"), 404,
    qr/^id: /, '... and cannot be replayed');

($code, $out, $err) = $f->cli('events', 'show', $ev, '--json');
is($code, 0, 'cli events show --json') or diag($err);
my $show = $JSON->decode($out);
is($show->{event}{id}, $ev, '... the event');
is(scalar @{ $show->{deliveries} }, 1, '... its delivery');
is($show->{deliveries}[0]{attempt_log}[0]{status}, 200, '... and attempts');
($code, $out, $err) = $f->cli('events', 'show', $ev);
like($out, qr/^event\s+\Q$ev\E/m, 'cli events show (text)');
like($out, qr/^reference\s+- \(terra-reference: the event id\)$/m,
    '... an event of no request: what terra-reference carries instead');
like($out, qr/state=delivered\s+attempts=1/, '... delivery state');
like($out, qr/#1\s+\S+\s+status=200\s+latency=\d+ms/, '... every attempt');
($code, $out, $err) = $f->cli('events', 'show', 'nope');
is($code, 1, 'cli events show of an unknown event fails');

($code, $out, $err) = $f->cli('events', 'replay', $ev);
is($code, 0, 'cli events replay');
like($out, qr/queued 1 delivery/, '... queues it again');
$r = settled($f, $alpha, $ev);
$r = api($f, $alpha, POST => "/v2/events/$ev/replay");
is($r->{status}, 200, 'api events replay');
is($r->{json}{queued}, 1, '... queued 1');
$r = settled($f, $alpha, $ev);
is_deeply([ map { $_->{attempts} } @{ $r->{json}{deliveries} } ], [3],
    '... delivered three times in all');

# -- dead deliveries (retries = 0: one failed attempt is the end) --
$r = api($f, $beta, POST => '/v2/destinations',
    { type => 'webhook', url => "$hook/dead" });
my $dead = $r->{json}{destination}{id};
my $ev2 = '00000000-0000-4000-8000-00000000e002';
add_event($f, $beta, $ev2);
$r = settled($f, $beta, $ev2);
my %st = map { $_->{destination_id} => $_ } @{ $r->{json}{deliveries} };
is($st{$dead}{state}, 'dead', 'a destination answering 500 makes it dead');
is($st{$dead}{attempt_log}[0]{status}, 500, '... after an attempt got 500');
is($st{$b1->{id}}{state}, 'delivered', '... the other one is delivered');

$r = api($f, $beta, GET => '/v2/deliveries?state=dead');
is($r->{status}, 200, 'GET /v2/deliveries?state=dead');
is_deeply([ map { "$_->{event_id} $_->{destination_id}" }
        @{ $r->{json}{deliveries} } ], [ "$ev2 $dead" ], '... lists it');
is(scalar @{ api($f, $alpha, GET => '/v2/deliveries?state=dead')->{json}
        {deliveries} }, 0, '... and not to another developer');
$r = api($f, $beta, GET => '/v2/deliveries?state=dead&since=' . (time + 3600));
is(scalar @{ $r->{json}{deliveries} }, 0, '... since a later time: none');
FerryTest::is_error(api($f, $beta, GET => '/v2/deliveries?state=bogus'), 400,
    qr/^state: /, 'a bad state is 400 naming it');
FerryTest::is_error(api($f, $beta, GET => '/v2/deliveries?since=yesterday'),
    400, qr/^since: /, 'a bad since is 400 naming it');
my $forms = 'expected a date (YYYY-MM-DD), an ISO 8601 date-time or unix'
  . ' seconds';
FerryTest::is_error(api($f, $beta, GET => '/v2/deliveries?since=-5'), 400,
    qr/^since: \Q$forms\E$/, '... negative seconds: one clear message');
FerryTest::is_error(api($f, $beta, POST => '/v2/deliveries/replay',
        { since => 'soon' }), 400, qr/^since: /, 'replay: a bad since');
FerryTest::is_error(api($f, $beta, POST => '/v2/deliveries/replay',
        { since => [] }), 400, qr/^since: /, 'replay: a since of another type');
FerryTest::is_error(api($f, $beta, POST => '/v2/deliveries/replay',
        { since => -1 }), 400, qr/^since: /, 'replay: a negative since');
FerryTest::is_error(api($f, $beta, POST => '/v2/deliveries/replay',
        { since => 253402300800 }), 400,
    qr/^since: out of range \(1970 to 9999\)$/,
    'replay: a number past 9999, as its digits would be');
FerryTest::is_error(api($f, $beta, POST => '/v2/deliveries/replay',
        { since => 1.5 }), 400, qr/^since: whole unix seconds/,
    'replay: a fraction of a second');
is(api($f, $beta, POST => '/v2/deliveries/replay',
        { since => 4.1e9 })->{status}, 200,
    'replay: whole seconds written as a real (2099: nothing to requeue)');
FerryTest::is_error(api($f, $beta, GET => '/v2/deliveries?since='
        . '9999-12-31T23:59:59-14:00'), 400,
    qr/^since: out of range \(1970 to 9999\)$/,
    'a date-time whose instant is past 9999');

$r = api($f, $alpha, POST => '/v2/deliveries/replay', {});
is($r->{json}{queued}, 0, 'replaying dead ones touches only the caller\'s');
$r = api($f, $beta, POST => '/v2/deliveries/replay',
    { since => int(time) + 3600 });
is($r->{json}{queued}, 0, 'replay since a later time: none');
$r = api($f, $beta, POST => '/v2/deliveries/replay',
    { since => '2000-01-01T00:00:00Z' });
is($r->{status}, 200, 'POST /v2/deliveries/replay');
is($r->{json}{queued}, 1, '... queues the dead one again');
$r = settled($f, $beta, $ev2);
%st = map { $_->{destination_id} => $_ } @{ $r->{json}{deliveries} };
is($st{$dead}{attempts}, 2, '... which is tried again (and dies again)');

($code, $out, $err) = $f->cli('events', 'replay', '--dead', '--since',
    '2000-01-01T00:00:00Z');
is($code, 0, 'cli events replay --dead --since ISO') or diag($err);
like($out, qr/queued 1 delivery/, '... queues it');
settled($f, $beta, $ev2);
($code, $out, $err) = $f->cli('events', 'replay', '--dead', '--since',
    int(time) + 3600);
like($out, qr/queued 0 deliveries/, 'cli --since unix seconds');
($code, $out, $err) = $f->cli('events', 'replay', '--dead', '--since',
    'later');
ok($code == 2 && $err =~ /--since/, 'cli: a bad --since');

# -- metrics --
$r = $f->request(GET => '/metrics');
is($r->{status}, 200, 'GET /metrics');
like($r->{headers}{'content-type'}, qr{^text/plain; version=0\.0\.4},
    '... Prometheus text');
like($r->{body}, qr/^ferry_deliveries\{state="dead"\} 1$/m,
    '... the dead gauge');
like($r->{body}, qr/^ferry_deliveries\{state="delivered"\} \d+$/m,
    '... the delivered gauge');
like($r->{body}, qr/^ferry_deliveries_total\{outcome="delivered"\} \d+/m,
    '... and the engine\'s counters');

# -- remove --
($code, $out, $err) = $f->cli('destination', 'remove', $v6);
is($code, 0, 'cli remove');
($code, $out, $err) = $f->cli('destination', 'remove', $v6);
ok($code == 1 && $err =~ /no destination/, '... twice fails');
$r = api($f, $beta, DELETE => "/v2/destinations/$dead");
is($r->{status}, 200, 'api remove');
FerryTest::is_error(api($f, $beta, DELETE => "/v2/destinations/$dead"), 404,
    qr/^id: /, '... twice is 404');
$r = api($f, $beta, GET => '/v2/destinations');
is_deeply([ map { $_->{id} } @{ $r->{json}{destinations} } ], [ $b1->{id} ],
    'a removed destination is not listed');
my $ev3 = '00000000-0000-4000-8000-00000000e003';
add_event($f, $beta, $ev3);
$r = settled($f, $beta, $ev3);
is_deeply([ map { $_->{destination_id} } @{ $r->{json}{deliveries} } ],
    [ $b1->{id} ], '... and receives no new event');

# -- a kind that does not sign --
($code, $out, $err) = $f->cli('destination', 'add', $gamma->{dev_id},
    'postgres', 'postgresql://u@127.0.0.1:1/db');
is($code, 0, 'cli add postgres (text)') or diag($err);
like($out, qr/^id\s+[0-9a-f-]{36}$/m, '... prints the id');
unlike($out, qr/secret/, '... and no signing secret, as nothing is signed');

# -- help --
($code, $out) = $f->cli('help');
like($out, qr/ferry destination add DEV_ID KIND URL/, 'ferry help');
like($out, qr/events show EVENT_ID/, '... with events show');
($code, $out) = $f->cli('destination', '--help');
like($out, qr/rotate-secret/, 'ferry destination --help');
($code, $out) = $f->cli('events', '--help');
like($out, qr/replay --dead \[--since T\]/, 'ferry events --help');

$f->stop;
done_testing();

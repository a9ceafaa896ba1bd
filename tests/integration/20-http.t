# The HTTP layer: health, unknown routes, methods, body limits, headers.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use IO::Select;
use IO::Socket::INET;
use Test::More;

my $f = FerryTest->new;
$f->start;
like($f->base, qr{^http://127\.0\.0\.1:\d+$}, 'port 0 picked a free port');

my $r = $f->request(GET => '/healthz');
is($r->{status}, 200, '/healthz answers 200');
is_deeply($r->{json}, { status => 'ok' }, '/healthz body');
like($r->{headers}{'x-request-id'}, qr/^[0-9a-f]{16}$/, 'X-Request-Id set');
is($r->{headers}{'cache-control'}, 'no-store', 'API answers are not cached');

$r = $f->request(HEAD => '/healthz');
is($r->{status}, 200, 'HEAD is served by the GET route');

$r = $f->request(GET => '/no/such/thing');
FerryTest::is_error($r, 404, qr{no route for GET /no/such/thing},
    'unknown route: 404 with the JSON error body');
is($r->{json}{title}, 'not found', '... RFC 7807 title');
is($r->{json}{instance}, '/no/such/thing', '... instance is the path');
is($r->{json}{detail}, $r->{json}{message}, '... detail = message');

$r = $f->request(GET => '/v2/auth/generateWidgetSession');
FerryTest::is_error($r, 405, qr/method GET is not allowed/,
    'wrong method: 405 with the JSON error body');
is($r->{headers}{allow}, 'POST', '... and an Allow header');

$r = $f->request(DELETE => '/healthz');
FerryTest::is_error($r, 405, undef, 'DELETE /healthz: 405');

# A body over the 1 MiB limit is refused before it is read.
$r = $f->request(POST => '/v2/auth/generateWidgetSession',
    headers => { 'content-type' => 'application/json' },
    body => '{"reference_id":"' . ('x' x (5 * 1024 * 1024)) . '"}');
FerryTest::is_error($r, 413, qr/larger than the limit of 1048576 bytes/,
    '5 MiB body: 413 naming the limit');

# Chunked bodies have no Content-Length: the limit applies as they come.
{
    my $s = IO::Socket::INET->new(PeerAddr => $f->{addr}, Proto => 'tcp')
      or die "connect: $!";
    print $s "POST /v2/auth/generateWidgetSession HTTP/1.1\r\n"
      . "Host: x\r\nConnection: close\r\n"
      . "Transfer-Encoding: chunked\r\n\r\n";
    my $chunk = 'y' x 65536;
    for (1 .. 24) {
        last unless print $s sprintf("%x\r\n%s\r\n", length $chunk, $chunk);
    }
    print $s "0\r\n\r\n";
    local $/;
    my $answer = <$s> // '';
    like($answer, qr{^HTTP/1\.1 413}, 'chunked body over the limit: 413');
    close($s);
}

# A request with a header block over the connection memory is refused
# and the server goes on.
{
    my $s = IO::Socket::INET->new(PeerAddr => $f->{addr}, Proto => 'tcp')
      or die "connect: $!";
    print $s "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: "
      . ('z' x 200000) . "\r\n\r\n";
    local $/;
    my $answer = <$s> // '';
    like($answer, qr{^HTTP/1\.1 4\d\d|^$}, 'huge headers refused');
    close($s);
}

# Garbage on the socket does not hurt the server.
{
    my $s = IO::Socket::INET->new(PeerAddr => $f->{addr}, Proto => 'tcp')
      or die "connect: $!";
    print $s "\x00\x01\x02 NOT HTTP\r\n\r\n";
    IO::Select->new($s)->can_read(2);
    close($s);
    pass('garbage request answered or closed');
}

$r = $f->request(GET => '/healthz');
is($r->{status}, 200, 'still serving after the bad requests');
ok($f->alive, 'the server process is alive');

$f->stop;
done_testing;

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

# Raw requests: the answer's status line, and whether the server closed.
sub raw {
    my ($req, $wait) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => $f->{addr}, Proto => 'tcp')
      or die "connect: $!";
    print $s $req;
    my $answer = '';
    my $sel = IO::Select->new($s);
    while ($sel->can_read($wait // 3)) {
        my $n = sysread($s, my $chunk, 65536);
        last if !$n;
        $answer .= $chunk;
    }
    close($s);
    return $answer;
}

my @framing = (
    [ 'encoded NUL in the path', "GET /healthz%00junk HTTP/1.1\r\nHost: x\r\n\r\n",
        qr/encoded NUL/ ],
    [ 'encoded NUL in the query', "GET /healthz?a=%00 HTTP/1.1\r\nHost: x\r\n\r\n",
        qr/encoded NUL/ ],
    [ 'encoded slash in the path',
        "POST /v2%2Fauth%2FgenerateWidgetSession HTTP/1.1\r\nHost: x\r\n"
          . "Content-Length: 0\r\n\r\n", qr/encoded '\/'/ ],
    [ 'bad percent-encoding', "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
        qr/two hex digits/ ],
    [ 'two Content-Length headers',
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
          . "Content-Length: 5\r\n\r\n{}GET /healthz HTTP/1.1\r\n\r\n",
        qr/Content-Length: given more than once/ ],
    [ 'Content-Length with Transfer-Encoding',
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
          . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        qr/must not be sent together/ ],
    [ 'space before the colon of Content-Length',
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length : 18\r\n\r\n"
          . "GET /healthz HTTP/1.1\r\n\r\n", qr/header name holds a space/ ],
    [ 'space before the colon of Transfer-Encoding',
        "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
          . "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n",
        qr/header name holds a space/ ],
    [ 'chunked in HTTP/1.0',
        "POST /healthz HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n"
          . "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        qr/not allowed in HTTP\/1\.0/ ],
    [ 'Transfer-Encoding: gzip',
        "POST /healthz HTTP/1.1\r\nHost: x\r\n"
          . "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
        qr/only 'chunked'/ ],
    [ 'HTTP/1.1 without Host', "GET /healthz HTTP/1.1\r\n\r\n",
        qr/Host: an HTTP\/1\.1 request carries exactly one/ ],
    [ 'HTTP/1.2 without Host', "GET /healthz HTTP/1.2\r\n\r\n",
        qr/Host: an HTTP\/1\.1 request carries exactly one/ ],
    [ 'two Host headers', "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
        qr/Host: an HTTP\/1\.1 request carries exactly one/ ],
);
for my $c (@framing) {
    my ($name, $req, $re) = @$c;
    my $answer = raw($req);
    like($answer, qr{^HTTP/1\.1 400 }, "$name: 400");
    like($answer, qr/\r\nConnection: close\r\n/i, "$name: connection closed");
    like($answer, $re, "$name: the body says why");
    my @status = $answer =~ m{HTTP/1\.1 (\d+)}g;
    is(scalar @status, 1, "$name: one answer only (nothing smuggled)");
}

like(raw("GET /healthz HTTP/1.0\r\n\r\n"), qr{^HTTP/1\.[01] 200 },
    'HTTP/1.0 needs no Host');

# A request line and then nothing: the state made for it is freed.
raw("GET /healthz HTTP/1.1\r\n", 0.2);

# Link tokens stay out of the access log.
$f->request(GET => '/widget/SeCrEtToKeN123');
for (1 .. 50) {
    last if $f->log_text =~ m{path=/widget/};
    select(undef, undef, undef, 0.05);
}
unlike($f->log_text, qr/SeCrEtToKeN123/, 'link tokens are not logged');
like($f->log_text, qr{path=/widget/\[redacted\]}, '... the prefix is');
$f->request(GET => '/widget/icons/none.svg');
for (1 .. 50) {
    last if $f->log_text =~ m{path=/widget/icons/};
    select(undef, undef, undef, 0.05);
}
like($f->log_text, qr{path=/widget/icons/none\.svg},
    '... but the widget\'s own paths, which hold none, are shown whole');

$r = $f->request(GET => '/healthz');
is($r->{status}, 200, 'still serving after the bad requests');
ok($f->alive, 'the server process is alive');

$f->stop;

# A body that does not arrive in time is cut off: libmicrohttpd 0.9.75
# cannot answer while a body is coming in, so the connection is closed.
my $slow = FerryTest->new(config => "[server]\nrequest_timeout_seconds = 1\n"
      . "[provider sandbox]\n");
$slow->start;
{
    my $s = IO::Socket::INET->new(PeerAddr => $slow->{addr}, Proto => 'tcp')
      or die "connect: $!";
    print $s "POST /v2/auth/generateWidgetSession HTTP/1.1\r\nHost: x\r\n"
      . "Content-Length: 10\r\n\r\n{";
    sleep 2;
    print $s '"';
    my $answer = '';
    IO::Select->new($s)->can_read(5);
    my $n = sysread($s, $answer, 65536);
    ok(defined $n && $n == 0, 'slow body: the connection is closed');
    close($s);
    like($slow->log_text, qr/event=http\.body_timeout/, '... and logged');
    is($slow->sql('select count(*) from sessions'), 0, '... nothing stored');
}
$slow->stop;

# Listen addresses are checked before anything is created.
for my $l ('127.0.0.1:99999', '999.1.1.1:80', ':0', 'example.com:80') {
    my $b = FerryTest->new;
    my $pid = fork();
    if ($pid == 0) {
        %ENV = $b->child_env(FERRY_SERVER_LISTEN => $l);
        open(STDERR, '>', $b->dir . '/l.err');
        open(STDOUT, '>', '/dev/null');
        exec(FerryTest::bin(), 'serve', '--config', $b->conf);
    }
    waitpid($pid, 0);
    is($? >> 8, 1, "listen = $l stops start-up");
    my $said = FerryTest::slurp($b->dir . '/l.err');
    like($said, qr/\[server\] listen/, '... naming the key');
    unlike($said, qr/given twice/, '... for what it is');
}

# A taken address with a JSON log: the failure is a JSON line too.
{
    my $taken = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
        LocalPort => 0, Proto => 'tcp') or die "listen: $!";
    my $port = $taken->sockport;
    my $b = FerryTest->new(config => "[log]\nformat = json\n");
    my $pid = fork();
    if ($pid == 0) {
        %ENV = $b->child_env(FERRY_SERVER_LISTEN => "127.0.0.1:$port");
        open(STDERR, '>', $b->dir . '/l.err');
        open(STDOUT, '>', '/dev/null');
        exec(FerryTest::bin(), 'serve', '--config', $b->conf);
    }
    waitpid($pid, 0);
    is($? >> 8, 1, 'a taken address stops start-up');
    my @lines = split /\n/, FerryTest::slurp($b->dir . '/l.err');
    my @bad = grep { !eval { $FerryTest::JSON->decode($_); 1 } } @lines;
    is(scalar @bad, 0, '... every line of stderr is JSON') or diag(@bad);
    my $last = eval { $FerryTest::JSON->decode($lines[-1]) } // {};
    is($last->{event}, 'failed', '... the last says it failed');
    like($last->{error} // '', qr/cannot listen on 127\.0\.0\.1:$port/,
        '... and why');
    like($last->{hint} // '', qr/FERRY_SERVER_LISTEN/, '... and what to do');
}

done_testing;

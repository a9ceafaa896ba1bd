# POST /v2/auth/generateWidgetSession and the newer widget-session paths:
# credentials, the created session, and every kind of bad input.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use Digest::SHA qw(sha256_hex);
use Test::More;

my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[provider oura]\nclient_id = cid\nclient_secret = cs\n"
      . "[provider withings]\nenabled = false\nclient_id = w\n");
my $dev = $f->developer('acme');
my $other = $f->developer('other');
$f->start;

my $path = '/v2/auth/generateWidgetSession';
my %auth = ('dev-id' => $dev->{dev_id}, 'x-api-key' => $dev->{api_key});
my %json = ('content-type' => 'application/json');

sub post {
    my ($p, $body, %h) = @_;
    return $f->request(POST => $p, headers => {%h}, body => $body);
}

sub sessions { $f->sql('select count(*) from sessions') }

# ---- credentials ----

my @auth_cases = (
    [ 'no headers', {}, qr/dev-id or x-api-key headers are missing/ ],
    [ 'no x-api-key', { 'dev-id' => $dev->{dev_id} },
        qr/dev-id or x-api-key headers are missing/ ],
    [ 'no dev-id', { 'x-api-key' => $dev->{api_key} },
        qr/dev-id or x-api-key headers are missing/ ],
    [ 'wrong key', { 'dev-id' => $dev->{dev_id}, 'x-api-key' => 'fk_x' },
        qr/invalid dev-id or x-api-key/ ],
    [ 'another developer\'s key',
        { 'dev-id' => $dev->{dev_id}, 'x-api-key' => $other->{api_key} },
        qr/invalid dev-id or x-api-key/ ],
    [ 'unknown developer',
        { 'dev-id' => 'dev_nobody', 'x-api-key' => $dev->{api_key} },
        qr/invalid dev-id or x-api-key/ ],
    [ 'over-long key',
        { 'dev-id' => $dev->{dev_id}, 'x-api-key' => 'k' x 5000 },
        qr/invalid dev-id or x-api-key/ ],
);
for my $c (@auth_cases) {
    my ($name, $h, $re) = @$c;
    FerryTest::is_error(post($path, '{}', %$h), 401, $re, "401: $name");
    FerryTest::is_error(post('/widget/api/session', '{}', %$h), 403, $re,
        "403 on /widget/api/session: $name");
}
FerryTest::is_error(post('/api/widget/session', '{}'), 403, undef,
    '403 on /api/widget/session without credentials');
my $r = post($path, '{}', 'DEV-ID' => $dev->{dev_id},
    'X-API-KEY' => $dev->{api_key});
is($r->{status}, 200, 'header names match without regard to case');

# ---- a created session ----

my $before = sessions();
$r = post($path, '', %auth);
is($r->{status}, 200, 'empty body, no content type: 200')
  or diag($r->{body});
is($r->{json}{status}, 'success', 'status success');
like($r->{json}{session_id},
    qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    'session_id is a UUID v4');
is($r->{json}{expires_in}, 900, 'expires_in defaults to 900');
my $base = $f->base;
like($r->{json}{url}, qr{^\Q$base\E/widget/[A-Za-z0-9_-]{32}$},
    'url is <public_url>/widget/<192-bit token>');
is_deeply([ sort keys %{ $r->{json} } ],
    [qw(expires_in session_id status url)], 'exactly the Terra keys');
is(sessions(), $before + 1, 'one session stored');
is($f->sql("select providers from sessions where id = "
      . "'$r->{json}{session_id}'"), 'SANDBOX,OURA',
    'no providers asked: every enabled provider, in config order');

my $full = '{"reference_id":"user-42","providers":"OURA, sandbox,WITHINGS",'
  . '"language":"de","auth_success_redirect_url":"https://app.example/ok?a=1",'
  . '"auth_failure_redirect_url":"myapp://failed","expires_in":3600}';
$r = post($path, $full, %auth, %json);
is($r->{status}, 200, 'full body: 200') or diag($r->{body});
is($r->{json}{expires_in}, 3600, 'expires_in as asked');
my $id = $r->{json}{session_id};
my ($token) = $r->{json}{url} =~ m{/widget/(.+)$};
is($f->sql("select reference_id || '|' || language || '|' || success_url"
      . " || '|' || failure_url || '|' || providers || '|' || dev_id"
      . " from sessions where id = '$id'"),
    "user-42|de|https://app.example/ok?a=1|myapp://failed|OURA,SANDBOX|"
      . $dev->{dev_id},
    'stored: reference, language, redirects, enabled providers, developer');
is($f->sql("select (expires_at - created_at) / 1000000 from sessions"
      . " where id = '$id'"), 3600, 'stored lifetime');
is($f->sql("select hex(token_hash) from sessions where id = '$id'"),
    uc(sha256_hex($token)), 'the token is stored only as its SHA-256');
is($f->sql("select kind from sessions where id = '$id'"), 'widget',
    'kind widget');

$r = post($path, '{"providers":["SANDBOX","OURA"]}', %auth);
is($r->{status}, 200, 'providers as a JSON array');
$r = post($path, '{"providers":"SANDBOX,SANDBOX"}', %auth);
is($f->sql("select providers from sessions where id = "
      . "'$r->{json}{session_id}'"), 'SANDBOX', 'duplicates dropped');
$r = post($path, '{"expires_in":60}', %auth);
is($r->{json}{expires_in}, 60, 'expires_in 60 (the lower bound)');
$r = post($path, '{"expires_in":604800}', %auth);
is($r->{json}{expires_in}, 604800, 'expires_in 604800 (the upper bound)');
$r = post($path, '{"reference_id":null,"language":null}', %auth);
is($r->{status}, 200, 'null fields are absent fields');
$r = post($path, '{"reference_id":"ü-Ω-用户"}', %auth);
is($r->{status}, 200, 'UTF-8 reference_id accepted');
$r = post($path, '{"future_field":{"x":[1,2]}}', %auth);
is($r->{status}, 200, 'unknown fields are ignored');

my %seen;
for (1 .. 20) {
    my $x = post($path, '{}', %auth);
    $seen{ $x->{json}{url} }++;
}
is(scalar keys %seen, 20, 'every link is different');

for my $p ('/widget/api/session', '/api/widget/session') {
    $r = post($p, '{"reference_id":"u1","providers":"SANDBOX"}', %auth);
    is($r->{status}, 200, "$p: 200");
    is_deeply([ sort keys %{ $r->{json} } ],
        [qw(expires_in session_id status url)], "$p: same shape");
}

# ---- bad input: 400 naming the cause, nothing stored, still serving ----

my $long_url = 'https://app.example/' . ('a' x 10240);
my @bad = (
    [ 'malformed JSON', '{"reference_id":', qr/^body: invalid JSON/ ],
    [ 'JSON array body', '[1,2]', qr/^body: expected a JSON object/ ],
    [ 'JSON string body', '"hello"', qr/^body: expected a JSON object/ ],
    [ 'trailing garbage', '{} {}', qr/^body: invalid JSON/ ],
    [ 'duplicate keys', '{"reference_id":"a","reference_id":"b"}',
        qr/^body: invalid JSON.*duplicate/ ],
    [ 'reference_id a number', '{"reference_id":42}',
        qr/^reference_id: must be a string/ ],
    [ 'reference_id an object', '{"reference_id":{}}',
        qr/^reference_id: must be a string/ ],
    [ 'NUL in reference_id', '{"reference_id":"a\u0000b"}',
        qr/^reference_id: must not contain NUL bytes/ ],
    [ 'raw NUL byte in the body', "{\"reference_id\":\"a\x00b\"}",
        qr/^body: invalid JSON/ ],
    [ 'body starting with a NUL byte', "\x00{\"providers\":\"NOPE\"}",
        qr/^body: invalid JSON/ ],
    [ 'body of one NUL byte', "\x00", qr/^body: invalid JSON/ ],
    [ 'white space then NUL', "  \x00 junk", qr/^body: invalid JSON/ ],
    [ 'invalid UTF-8 in reference_id', "{\"reference_id\":\"\xff\xfeab\"}",
        qr/^body: invalid JSON.*(UTF-8|decode)/i ],
    [ 'lone surrogate', '{"reference_id":"\ud800"}',
        qr/^body: invalid JSON/ ],
    [ 'control character in reference_id', '{"reference_id":"a\nb"}',
        qr/^reference_id: must not contain control characters/ ],
    [ 'over-long reference_id', '{"reference_id":"' . ('r' x 300) . '"}',
        qr/^reference_id: longer than 256 bytes/ ],
    [ 'language not a tag', '{"language":"<script>"}', qr/^language: / ],
    [ 'language a number', '{"language":1}',
        qr/^language: must be a string/ ],
    [ 'javascript: redirect',
        '{"auth_success_redirect_url":"javascript:alert(1)"}',
        qr/^auth_success_redirect_url: the javascript: scheme/ ],
    [ 'JavaScript: in capitals',
        '{"auth_failure_redirect_url":"JavaScript:alert(1)"}',
        qr/^auth_failure_redirect_url: the javascript: scheme/ ],
    [ 'data: redirect',
        '{"auth_success_redirect_url":"data:text/html,<b>x</b>"}',
        qr/^auth_success_redirect_url: the data: scheme/ ],
    [ 'file: redirect', '{"auth_success_redirect_url":"file:///etc/passwd"}',
        qr/^auth_success_redirect_url: the file: scheme/ ],
    [ 'vbscript: redirect',
        '{"auth_success_redirect_url":"vbscript:msgbox(1)"}',
        qr/^auth_success_redirect_url: the vbscript: scheme/ ],
    [ 'user-info redirect',
        '{"auth_success_redirect_url":"https://evil.example@good.example/"}',
        qr/^auth_success_redirect_url: user-info/ ],
    [ 'user:password redirect',
        '{"auth_failure_redirect_url":"https://u:p@good.example/"}',
        qr/^auth_failure_redirect_url: user-info/ ],
    [ '10 kB redirect', "{\"auth_success_redirect_url\":\"$long_url\"}",
        qr/^auth_success_redirect_url: longer than 2048 bytes/ ],
    [ 'relative redirect', '{"auth_success_redirect_url":"/ok"}',
        qr/^auth_success_redirect_url: not an absolute URL/ ],
    [ 'scheme-relative redirect',
        '{"auth_success_redirect_url":"//evil.example/"}',
        qr/^auth_success_redirect_url: not an absolute URL/ ],
    [ 'redirect with a space',
        '{"auth_success_redirect_url":"https://a.example/x y"}',
        qr/^auth_success_redirect_url: contains a space/ ],
    [ 'redirect with a backslash',
        '{"auth_success_redirect_url":"https://a.example\\\\@evil/"}',
        qr/^auth_success_redirect_url: contains a space, backslash/ ],
    [ 'https without host', '{"auth_success_redirect_url":"https://"}',
        qr/^auth_success_redirect_url: / ],
    [ 'redirect a number', '{"auth_success_redirect_url":7}',
        qr/^auth_success_redirect_url: must be a string/ ],
    [ 'expires_in below the bounds', '{"expires_in":59}',
        qr/^expires_in: must be between 60 and 604800 seconds/ ],
    [ 'expires_in above the bounds', '{"expires_in":604801}',
        qr/^expires_in: must be between 60 and 604800 seconds/ ],
    [ 'expires_in zero', '{"expires_in":0}',
        qr/^expires_in: must be between 60 and 604800 seconds/ ],
    [ 'expires_in negative', '{"expires_in":-5}',
        qr/^expires_in: must be between 60 and 604800 seconds/ ],
    [ 'expires_in huge', '{"expires_in":99999999999999999999}',
        qr/^(body: invalid JSON|expires_in: )/ ],
    [ 'expires_in 1e300', '{"expires_in":1e300}',
        qr/^expires_in: must be between 60 and 604800 seconds/ ],
    [ 'expires_in 2^40', '{"expires_in":1099511627776}',
        qr/^expires_in: must be between 60 and 604800 seconds/ ],
    [ 'expires_in a string', '{"expires_in":"900"}',
        qr/^expires_in: must be a whole number/ ],
    [ 'expires_in a fraction', '{"expires_in":90.5}',
        qr/^expires_in: must be a whole number/ ],
    [ 'unknown provider', '{"providers":"OURA,FITBYTE"}',
        qr/^providers: unknown provider 'FITBYTE'/ ],
    [ 'long unknown UTF-8 provider',
        '{"providers":"a' . ("\xc3\xa9" x 40) . '"}',
        qr/^providers: unknown provider/ ],
    [ 'known providers none enabled', '{"providers":"GARMIN,WITHINGS"}',
        qr/^providers: none of the requested providers is enabled/ ],
    [ 'providers a number', '{"providers":5}',
        qr/^providers: must be a string/ ],
    [ 'providers array with a number', '{"providers":["OURA",1]}',
        qr/^providers: expected a comma-separated string or an array/ ],
);
for my $c (@bad) {
    my ($name, $body, $re) = @$c;
    my $n = sessions();
    my $x = post($path, $body, %auth, %json);
    FerryTest::is_error($x, 400, $re, "400: $name");
    is(sessions(), $n, "... nothing stored ($name)");
}
is($f->request(GET => '/healthz')->{status}, 200,
    'still serving after all the bad input');

# ---- a revoked key stops working at once ----

my ($code, $out) = $f->cli('key', 'create', $dev->{dev_id}, '--json');
my $k = $FerryTest::JSON->decode($out);
my %auth2 = ('dev-id' => $dev->{dev_id}, 'x-api-key' => $k->{api_key});
is(post($path, '{}', %auth2)->{status}, 200, 'a new key works');
$f->cli('key', 'revoke', $k->{key_id});
FerryTest::is_error(post($path, '{}', %auth2), 401,
    qr/invalid dev-id or x-api-key/, 'revoked: 401 on the next request');
is(post($path, '{}', %auth)->{status}, 200, 'the other key still works');

$f->stop;

# ---- [links] bounds and public_url come from the configuration ----

my $g = FerryTest->new(config => "[provider sandbox]\n[links]\n"
      . "default_expires_in = 120\nmin_expires_in = 100\n"
      . "max_expires_in = 200\n[server]\n"
      . "public_url = https://ferry.example/\n");
my $d = $g->developer('bounds');
$g->start;
my %a = ('dev-id' => $d->{dev_id}, 'x-api-key' => $d->{api_key});
$r = $g->request(POST => $path, headers => \%a, body => '{}');
is($r->{json}{expires_in}, 120, 'configured default lifetime');
like($r->{json}{url}, qr{^https://ferry\.example/widget/[A-Za-z0-9_-]{32}$},
    'url built on [server] public_url');
$r = $g->request(POST => $path, headers => \%a, body => '{"expires_in":99}');
FerryTest::is_error($r, 400, qr/between 100 and 200 seconds/,
    'configured bounds named in the error');
$g->stop;

# ---- no provider enabled at all ----

my $h = FerryTest->new(config => "");
my $hd = $h->developer('none');
$h->start;
$r = $h->request(POST => $path,
    headers => { 'dev-id' => $hd->{dev_id}, 'x-api-key' => $hd->{api_key} },
    body => '{}');
FerryTest::is_error($r, 400, qr/^providers: no provider is enabled/,
    'no enabled provider: 400 saying so');
$h->stop;

done_testing;

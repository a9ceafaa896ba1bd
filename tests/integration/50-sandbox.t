# The SANDBOX provider's OAuth 2.0 authorization server, driven over
# HTTP alone: authorize (login and consent pages), token (code and
# refresh grants), revoke and userinfo, with the errors RFC 6749, RFC 7636
# and RFC 7009 ask for.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use Digest::SHA qw(hmac_sha256_hex sha256 sha256_hex);
use HTTP::Tiny;
use MIME::Base64 qw(encode_base64 encode_base64url);
use Test::More;

my $f = FerryTest->new(config => "[provider sandbox]\n");
$f->start;
my $base = $f->base;
my $redirect = "$base/callback/sandbox";
my $authorize = '/sandbox/oauth/authorize';

# The client secret is hex HMAC-SHA256(master key, label).
my $keytext = FerryTest::slurp($f->dir . '/ferry.key');
$keytext =~ s/\s+\z//;
my $key = length($keytext) == 64 ? pack('H*', $keytext) : $keytext;
my $secret = hmac_sha256_hex('ferry sandbox client secret', $key);

# No redirect is followed: where the server sends the browser is the
# point of most of these tests.
my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0, max_redirect => 0);

sub enc {
    my ($s) = @_;
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord $1)/ge;
    return $s;
}

sub form {
    my @kv = @_;
    my @out;
    while (@kv) {
        my ($k, $v) = splice(@kv, 0, 2);
        push @out, enc($k) . '=' . enc($v);
    }
    return join('&', @out);
}

sub req {
    my ($method, $path, %o) = @_;
    my %args = (headers => $o{headers} // {});
    $args{content} = $o{body} if defined $o{body};
    my $res = $http->request($method, $base . $path, \%args);
    my $json = eval { $FerryTest::JSON->decode($res->{content}) };
    return { %$res, json => $json };
}

sub post_form {
    my ($path, $body, %h) = @_;
    return req(POST => $path, body => $body,
        headers => { 'content-type' => 'application/x-www-form-urlencoded',
            %h });
}

# The query parameters of a Location header, decoded.
sub location_params {
    my ($r) = @_;
    my ($q) = ($r->{headers}{location} // '') =~ /\?(.*)$/;
    my %p;
    for my $pair (split /&/, $q // '') {
        my ($k, $v) = split /=/, $pair, 2;
        for ($k, $v) {
            $_ //= '';
            tr/+/ /;
            s/%([0-9A-Fa-f]{2})/chr(hex $1)/ge;
        }
        $p{$k} = $v;
    }
    return \%p;
}

sub location_base {
    my ($r) = @_;
    my ($b) = ($r->{headers}{location} // '') =~ /^([^?]*)/;
    return $b;
}

sub hidden {
    my ($r, $name) = @_;
    my ($v) = ($r->{content} // '')
      =~ /<input type="hidden" name="\Q$name\E" value="([^"]*)">/;
    return $v;
}

my $n = 0;

sub pkce {
    my $verifier = encode_base64url(sha256('verifier ' . ++$n . " $$"));
    return ($verifier, encode_base64url(sha256($verifier)));
}

sub authorize_params {
    my (%o) = @_;
    my %p = (response_type => 'code', client_id => 'ferry',
        redirect_uri => $redirect, scope => 'activity sleep daily body',
        state => 'st-' . ++$n, code_challenge_method => 'S256', %o);
    delete $p{$_} for grep { !defined $p{$_} } keys %p;
    return %p;
}

sub get_authorize {
    my (%o) = @_;
    my %p = authorize_params(%o);
    return req(GET => "$authorize?" . form(map { ($_, $p{$_}) } sort keys %p));
}

# The whole browser side: authorize, sign in as `name`, decide. Returns
# the final response (the 302 of the decision).
sub browse {
    my (%o) = @_;
    my $name = delete $o{name} // 'Alice';
    my $decision = delete $o{decision} // 'allow';
    my $r = get_authorize(%o);
    die "authorize: $r->{status} $r->{content}" if $r->{status} != 200;
    $r = post_form($authorize, form(step => 'login',
        request => hidden($r, 'request'), username => $name));
    die "login: $r->{status} $r->{content}" if $r->{status} != 200;
    return post_form($authorize, form(step => 'consent',
        request => hidden($r, 'request'), decision => $decision));
}

# A fresh code and its verifier.
sub new_code {
    my (%o) = @_;
    my ($verifier, $challenge) = pkce();
    my $r = browse(code_challenge => $challenge, %o);
    return (location_params($r)->{code}, $verifier);
}

my $basic = 'Basic ' . encode_base64("ferry:$secret", '');

# A token request, authenticated with Basic unless `authorization` says
# otherwise (undef: no header).
sub token {
    my ($body, %h) = @_;
    my %headers = (authorization => $basic, %h);
    delete $headers{$_} for grep { !defined $headers{$_} } keys %headers;
    return post_form('/sandbox/oauth/token', $body, %headers);
}

sub exchange {
    my ($code, $verifier, %o) = @_;
    return token(form(grant_type => 'authorization_code', code => $code,
        redirect_uri => $redirect, code_verifier => $verifier,
        @{ $o{extra} // [] }), %{ $o{headers} // {} });
}

sub userinfo {
    my ($access) = @_;
    return req(GET => '/sandbox/api/v1/userinfo',
        headers => { authorization => "Bearer $access" });
}

sub oauth_error {
    my ($r, $status, $error, $name) = @_;
    my $ok = $r->{status} == $status
      && ($r->{json}{error} // '') eq $error
      && defined $r->{json}{error_description}
      && ($r->{headers}{'cache-control'} // '') =~ /no-store/
      && ($r->{headers}{pragma} // '') eq 'no-cache';
    ok($ok, $name) or diag("$r->{status}: $r->{content}");
}

# ---- authorize: the login page ----

my ($verifier, $challenge) = pkce();
my $r = get_authorize(code_challenge => $challenge);
is($r->{status}, 200, 'authorize with good parameters: 200');
like($r->{headers}{'content-type'}, qr{^text/html}, 'an HTML page');
like($r->{content}, qr{<form method="post" action="\Q$base$authorize\E">},
    'a form posting to the authorize endpoint');
like($r->{content}, qr{<label for="username">Username</label>},
    'a Username field');
like($r->{content}, qr{<input [^>]*name="username"[^>]*autofocus},
    'with the focus');
like($r->{content}, qr{<button type="submit">Sign in</button>},
    'a Sign in button');
like($r->{content}, qr/ferry's sandbox/, 'says it is the sandbox');
like($r->{content}, qr/Any name works/, 'and that any name works');
like(hidden($r, 'request'), qr/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
    'the request travels sealed in a hidden field');
is(hidden($r, 'step'), 'login', 'step login');
my $csp = $r->{headers}{'content-security-policy'} // '';
unlike($csp, qr/form-action/,
    'no form-action: the consent redirects on to the developer\'s app');
like($csp, qr/frame-ancestors 'none'/, 'no framing');
unlike($r->{headers}{'set-cookie'} // '', qr/./, 'no cookie');
my $login_page = $r;

# ---- authorize: errors shown, never redirected ----

for my $c (
    [ 'a wrong redirect_uri', redirect_uri => 'https://evil.example/cb' ],
    [ 'a redirect_uri with a suffix', redirect_uri => "$redirect/x" ],
    [ 'a redirect_uri with a query', redirect_uri => "$redirect?a=1" ],
    [ 'no redirect_uri', redirect_uri => undef ],
    [ 'an unknown client', client_id => 'mallory' ],
    [ 'no client_id', client_id => undef ],
    [ 'a bad redirect_uri and no PKCE', redirect_uri => 'https://e.example/',
        code_challenge => undef ],
  )
{
    my ($name, %o) = @$c;
    $r = get_authorize(code_challenge => $challenge, %o);
    is($r->{status}, 400, "$name: 400");
    like($r->{headers}{'content-type'} // '', qr{^text/html},
        "$name: an error page");
    ok(!defined $r->{headers}{location}, "$name: no redirect");
}
$r = req(GET => "$authorize?" . form(authorize_params(
    code_challenge => $challenge)) . '&redirect_uri=' . enc($redirect));
is($r->{status}, 400, 'a repeated redirect_uri: an error page');
ok(!defined $r->{headers}{location}, '... not a redirect');

# ---- authorize: errors redirected to the client ----

sub redirected_error {
    my ($r, $error, $state, $name) = @_;
    my $p = location_params($r);
    ok($r->{status} == 302 && location_base($r) eq $redirect
          && ($p->{error} // '') eq $error && defined $p->{error_description}
          && (defined $state ? ($p->{state} // '') eq $state
            : !exists $p->{state}),
        $name)
      or diag("$r->{status} " . ($r->{headers}{location} // '')
          . " $r->{content}");
}

$r = get_authorize(code_challenge => undef, state => 'keep me');
redirected_error($r, 'invalid_request', 'keep me',
    'no PKCE: error=invalid_request, state kept');
like(location_params($r)->{error_description}, qr/PKCE S256 is required/,
    '... saying PKCE S256 is required');
redirected_error(get_authorize(code_challenge => $challenge,
    code_challenge_method => 'plain', state => 's1'), 'invalid_request', 's1',
    'PKCE plain: invalid_request');
redirected_error(get_authorize(code_challenge => $challenge,
    code_challenge_method => undef, state => 's2'), 'invalid_request', 's2',
    'no code_challenge_method (plain by default): invalid_request');
redirected_error(get_authorize(code_challenge => 'short', state => 's3'),
    'invalid_request', 's3', 'a challenge that is no S256 one');
redirected_error(get_authorize(code_challenge => $challenge,
    response_type => 'token', state => 's4'), 'unsupported_response_type',
    's4', 'response_type=token: unsupported_response_type');
redirected_error(get_authorize(code_challenge => $challenge,
    response_type => undef, state => 's5'), 'invalid_request', 's5',
    'no response_type: invalid_request');
redirected_error(get_authorize(code_challenge => $challenge,
    scope => 'sleep heart_rate', state => 's6'), 'invalid_scope', 's6',
    'an unknown scope: invalid_scope');
redirected_error(get_authorize(code_challenge => undef, state => undef),
    'invalid_request', undef, 'no state: none comes back');
redirected_error(req(GET => "$authorize?" . form(authorize_params(
    code_challenge => $challenge, state => 's7')) . '&scope=sleep'),
    'invalid_request', 's7', 'a repeated parameter: invalid_request');
redirected_error(get_authorize(code_challenge => $challenge,
    state => 'x' x 513), 'invalid_request', undef,
    'a state over 512 bytes: invalid_request, not echoed');
redirected_error(req(GET => "$authorize?" . form(authorize_params(
    code_challenge => $challenge, state => 's8')) . '&nonce=a%01b'),
    'invalid_request', 's8', 'a control character: invalid_request');
$r = get_authorize(code_challenge => $challenge, prompt => 'login',
    nonce => 'n');
is($r->{status}, 200, 'unknown parameters are ignored');
$r = get_authorize(code_challenge => $challenge, scope => undef);
is($r->{status}, 200, 'no scope: the default scopes');

# ---- login and consent ----

my $state = 'a b+c&d=e/?%~';
$r = get_authorize(code_challenge => $challenge, state => $state,
    scope => 'sleep activity');
my $sealed = hidden($r, 'request');
$r = post_form($authorize, form(step => 'login', request => $sealed,
    username => '  Alice <b>  '));
is($r->{status}, 200, 'sign in: the consent page') or diag($r->{content});
like($r->{content}, qr{<strong>ferry</strong> wants to read your:},
    'names the app');
like($r->{content}, qr{<li>Activity</li>\n<li>Sleep</li>\n</ul>},
    'lists the scopes asked for, by name');
unlike($r->{content}, qr{<li>Body measurements</li>}, 'and no others');
like($r->{content}, qr{Signed in as <strong>Alice &lt;b&gt;</strong>},
    'says who is signed in, escaped');
like($r->{content},
    qr{<button type="submit" name="decision" value="allow">Allow</button>},
    'an Allow button');
like($r->{content},
    qr{<button type="submit" name="decision" value="deny">Deny</button>},
    'a Deny button');
is(hidden($r, 'step'), 'consent', 'step consent');
my $consent = hidden($r, 'request');
isnt($consent, $sealed, 'a new sealed request for the consent step');

for my $c ([ 'an empty name', '' ], [ 'only spaces', '   ' ],
    [ 'a name over 64 characters', 'n' x 65 ],
    [ 'a control character', "a\tb" ])
{
    my ($name, $u) = @$c;
    $r = post_form($authorize, form(step => 'login', request => $sealed,
        username => $u));
    is($r->{status}, 400, "sign in with $name: 400");
    like($r->{content}, qr/role="alert"/, "... the login page with a note");
    is(hidden($r, 'request'), $sealed, '... for the same request');
}
$r = post_form($authorize, form(step => 'login', request => $sealed,
    username => "\xc3\xa9" x 64));
is($r->{status}, 200, '64 characters of UTF-8 are fine');

my $tampered = $sealed;
substr($tampered, 5, 1) = substr($tampered, 5, 1) eq 'A' ? 'B' : 'A';
$r = post_form($authorize, form(step => 'login', request => $tampered,
    username => 'alice'));
is($r->{status}, 400, 'a tampered request field: 400');
like($r->{content}, qr/expired or was changed/, '... a page saying so');
$r = post_form($authorize, form(step => 'consent', request => $sealed,
    decision => 'allow'));
is($r->{status}, 400, 'the login step\'s request at the consent step: 400');
ok(!defined $r->{headers}{location}, '... no code');
$r = post_form($authorize, form(step => 'consent', request => $consent,
    decision => 'maybe'));
is($r->{status}, 400, 'an unknown decision: 400');
$r = post_form($authorize, form(step => 'login', request => $sealed,
    username => 'a', username => 'b'));
is($r->{status}, 400, 'a repeated field: 400');
$r = req(POST => $authorize, body => 'step=login',
    headers => { 'content-type' => 'text/plain' });
is($r->{status}, 400, 'not a form: 400');

$r = post_form($authorize, form(step => 'consent', request => $consent,
    decision => 'allow'));
is($r->{status}, 302, 'allow: 302');
is(location_base($r), $redirect, '... to the redirect URI');
is($r->{headers}{'cache-control'}, 'no-store', '... not to be cached');
my $p = location_params($r);
like($p->{code}, qr/^[A-Za-z0-9_-]{43}$/, '... with a 256-bit code');
is($p->{state}, $state, '... and the state exactly as sent');
is_deeply([ sort keys %$p ], [qw(code state)], '... and nothing else');
my $code = $p->{code};
is($f->sql("select count(*) from sandbox_codes where hex(hash) = '"
      . uc(sha256_hex($code)) . "'"), 1, 'the code is stored as its hash');
is($f->sql("select account || '|' || scope from sandbox_codes"
      . " where hex(hash) = '" . uc(sha256_hex($code)) . "'"),
    'alice <b>|activity sleep', 'for the account and the scopes');

$r = post_form($authorize, form(step => 'consent', request => $consent,
    decision => 'deny'));
redirected_error($r, 'access_denied', $state, 'deny: error=access_denied');
$r = browse(code_challenge => $challenge, state => undef);
ok(!exists location_params($r)->{state}, 'no state in, no state out');

# ---- token: the code grant ----

$r = exchange($code, $verifier);
is($r->{status}, 200, 'exchange the code (Basic): 200') or diag($r->{content});
my $t = $r->{json} // {};
like($t->{access_token}, qr/^[A-Za-z0-9_-]{43}$/, 'an access token');
like($t->{refresh_token}, qr/^[A-Za-z0-9_-]{43}$/, 'a refresh token');
is($t->{token_type}, 'Bearer', 'token_type Bearer');
is($t->{expires_in}, 3600, 'expires_in 3600');
is($t->{scope}, 'activity sleep', 'the scope granted');
is_deeply([ sort keys %$t ],
    [qw(access_token expires_in refresh_token scope token_type)],
    'exactly the RFC 6749 keys');
like($r->{headers}{'content-type'}, qr{^application/json}, 'JSON');
is($r->{headers}{'cache-control'}, 'no-store', 'Cache-Control: no-store, once');
is($r->{headers}{pragma}, 'no-cache', 'Pragma: no-cache');
is($f->sql("select count(*) from sandbox_tokens where hex(hash) in ('"
      . uc(sha256_hex($t->{access_token})) . "','"
      . uc(sha256_hex($t->{refresh_token})) . "')"), 2,
    'the tokens are stored as their hashes');

$r = userinfo($t->{access_token});
is($r->{status}, 200, 'userinfo with the access token: 200');
my $alice_id = 'sbx_' . substr(sha256_hex('alice <b>'), 0, 24);
is_deeply($r->{json}, { user_id => $alice_id, username => 'alice <b>',
    scopes => 'activity sleep' }, 'the account, its name and the scopes');

my $first_access = $t->{access_token};
my $first_refresh = $t->{refresh_token};
$r = exchange($code, $verifier);
oauth_error($r, 400, 'invalid_grant', 'the code again: invalid_grant');
$r = userinfo($first_access);
is($r->{status}, 401, '... and the first access token is revoked');
like($r->{headers}{'www-authenticate'} // '',
    qr/^Bearer realm="sandbox", error="invalid_token"/,
    '... WWW-Authenticate: Bearer error="invalid_token"');
oauth_error(token(form(grant_type => 'refresh_token',
    refresh_token => $first_refresh)), 400, 'invalid_grant',
    '... and so is its refresh token');

(my $c2, my $v2) = new_code(name => 'ALICE <B>');
$r = token(form(grant_type => 'authorization_code', code => $c2,
    redirect_uri => $redirect, code_verifier => $v2, client_id => 'ferry',
    client_secret => $secret), authorization => undef);
is($r->{status}, 200, 'exchange with client_secret_post: 200')
  or diag($r->{content});
is(userinfo($r->{json}{access_token})->{json}{user_id}, $alice_id,
    'a name in another case is the same account');

($c2, $v2) = new_code();
(my $other_verifier) = pkce();
oauth_error(exchange($c2, $other_verifier), 400, 'invalid_grant',
    'a wrong code_verifier: invalid_grant');
($c2, $v2) = new_code();
oauth_error(token(form(grant_type => 'authorization_code', code => $c2,
    redirect_uri => "$redirect/x", code_verifier => $v2)), 400,
    'invalid_grant', 'another redirect_uri: invalid_grant');
($c2, $v2) = new_code();
oauth_error(token(form(grant_type => 'authorization_code', code => $c2,
    redirect_uri => $redirect)), 400, 'invalid_request',
    'no code_verifier: invalid_request');
oauth_error(exchange('nonsense', $v2), 400, 'invalid_grant',
    'an unknown code: invalid_grant');
($c2, $v2) = new_code();
$f->sql("update sandbox_codes set expires_at = 0 where hex(hash) = '"
      . uc(sha256_hex($c2)) . "'");
oauth_error(exchange($c2, $v2), 400, 'invalid_grant',
    'an expired code: invalid_grant');

# ---- token: client authentication and request checks ----

($c2, $v2) = new_code();
$r = exchange($c2, $v2, headers =>
    { authorization => 'Basic ' . encode_base64('ferry:wrong', '') });
oauth_error($r, 401, 'invalid_client', 'a wrong client secret: 401');
is($r->{headers}{'www-authenticate'}, 'Basic realm="sandbox"',
    '... WWW-Authenticate: Basic realm="sandbox"');
$r = exchange($c2, $v2, headers =>
    { authorization => 'Basic ' . encode_base64("mallory:$secret", '') });
oauth_error($r, 401, 'invalid_client', 'an unknown client: 401');
$r = exchange($c2, $v2, headers => { authorization => 'Bearer abc' });
oauth_error($r, 401, 'invalid_client', 'another scheme: 401');
$r = token(form(grant_type => 'authorization_code', code => $c2,
    redirect_uri => $redirect, code_verifier => $v2, client_id => 'ferry',
    client_secret => 'x' x 64), authorization => undef);
oauth_error($r, 401, 'invalid_client', 'a wrong client_secret in the body');
$r = token(form(grant_type => 'authorization_code', code => $c2,
    redirect_uri => $redirect, code_verifier => $v2),
    authorization => undef);
oauth_error($r, 401, 'invalid_client', 'no client authentication');
$r = exchange($c2, $v2, extra => [ client_secret => $secret ]);
oauth_error($r, 400, 'invalid_request', 'Basic and client_secret both');
is(exchange($c2, $v2)->{status}, 200,
    'none of that used the code up');

$r = token(form(grant_type => 'password', username => 'a', password => 'b'));
oauth_error($r, 400, 'unsupported_grant_type', 'grant_type=password');
$r = token(form(code => 'x'));
oauth_error($r, 400, 'invalid_request', 'no grant_type');
$r = token(form(grant_type => 'refresh_token') . '&grant_type=refresh_token');
oauth_error($r, 400, 'invalid_request', 'a repeated parameter');
$r = token('grant_type=refresh_token', 'content-type' => 'application/json');
oauth_error($r, 400, 'invalid_request', 'not a form');
$r = token(form(grant_type => 'refresh_token', refresh_token => 'x')
      . '&junk=%ZZ');
oauth_error($r, 400, 'invalid_request', 'a malformed escape');

# ---- token: refresh with rotation ----

($c2, $v2) = new_code(scope => 'activity sleep daily');
$t = exchange($c2, $v2)->{json};
$r = token(form(grant_type => 'refresh_token',
    refresh_token => $t->{refresh_token}));
is($r->{status}, 200, 'refresh: 200') or diag($r->{content});
my $t2 = $r->{json} // {};
isnt($t2->{access_token}, $t->{access_token}, 'a new access token');
isnt($t2->{refresh_token}, $t->{refresh_token}, 'a new refresh token');
is($t2->{scope}, 'activity sleep daily', 'the same scope');
is(userinfo($t2->{access_token})->{status}, 200, 'the new one works');

$r = token(form(grant_type => 'refresh_token', refresh_token =>
    $t2->{refresh_token}, scope => 'sleep'));
is($r->{status}, 200, 'refresh asking for fewer scopes: 200');
my $t3 = $r->{json} // {};
is($t3->{scope}, 'sleep', 'the access token has the narrower scope');
is(userinfo($t3->{access_token})->{json}{scopes}, 'sleep', '... userinfo too');
$r = token(form(grant_type => 'refresh_token', refresh_token =>
    $t3->{refresh_token}, scope => 'activity sleep daily'));
is($r->{status}, 200, 'the refresh token kept the whole grant');
my $t4 = $r->{json} // {};
oauth_error(token(form(grant_type => 'refresh_token', refresh_token =>
    $t4->{refresh_token}, scope => 'sleep body')), 400, 'invalid_scope',
    'asking for a scope outside the grant: invalid_scope');

oauth_error(token(form(grant_type => 'refresh_token',
    refresh_token => $t->{refresh_token})), 400, 'invalid_grant',
    'reusing a rotated refresh token: invalid_grant');
oauth_error(token(form(grant_type => 'refresh_token',
    refresh_token => $t4->{refresh_token})), 400, 'invalid_grant',
    '... which revoked the whole grant, the newest refresh token too');
is(userinfo($t4->{access_token})->{status}, 401, '... and its access tokens');
oauth_error(token(form(grant_type => 'refresh_token',
    refresh_token => $t2->{access_token})), 400, 'invalid_grant',
    'an access token as a refresh token: invalid_grant');
oauth_error(token(form(grant_type => 'refresh_token')), 400,
    'invalid_request', 'no refresh_token: invalid_request');

# ---- revoke ----

($c2, $v2) = new_code();
$t = exchange($c2, $v2)->{json};
$r = post_form('/sandbox/oauth/revoke', form(token => $t->{access_token},
    token_type_hint => 'access_token'), authorization => $basic);
is($r->{status}, 200, 'revoke an access token: 200');
is($r->{content}, '', '... with an empty body');
is(userinfo($t->{access_token})->{status}, 401, '... userinfo: 401');
$r = token(form(grant_type => 'refresh_token',
    refresh_token => $t->{refresh_token}));
is($r->{status}, 200, 'its refresh token still works');
my $t5 = $r->{json};
$r = post_form('/sandbox/oauth/revoke', form(token => $t5->{refresh_token}),
    authorization => $basic);
is($r->{status}, 200, 'revoke a refresh token: 200');
is(userinfo($t5->{access_token})->{status}, 401,
    '... its access tokens go with it');
oauth_error(token(form(grant_type => 'refresh_token',
    refresh_token => $t5->{refresh_token})), 400, 'invalid_grant',
    '... and it cannot be used');
$r = post_form('/sandbox/oauth/revoke', form(token => 'no-such-token'),
    authorization => $basic);
is($r->{status}, 200, 'an unknown token: 200 all the same');
$r = post_form('/sandbox/oauth/revoke', form(token => 'x', client_id =>
    'ferry', client_secret => $secret));
is($r->{status}, 200, 'client_secret_post works for revoke');
oauth_error(post_form('/sandbox/oauth/revoke', form(token => 'x'),
    authorization => 'Basic ' . encode_base64('ferry:no', '')), 401,
    'invalid_client', 'revoke with a wrong secret: 401');
oauth_error(post_form('/sandbox/oauth/revoke', '', authorization => $basic),
    400, 'invalid_request', 'revoke without a token: invalid_request');

# ---- userinfo ----

$r = req(GET => '/sandbox/api/v1/userinfo');
is($r->{status}, 401, 'userinfo without a token: 401');
is($r->{headers}{'www-authenticate'}, 'Bearer realm="sandbox"',
    '... a Bearer challenge without an error code (RFC 6750 3.1)');
$r = userinfo('nonsense');
is($r->{status}, 401, 'an unknown token: 401');
like($r->{headers}{'www-authenticate'}, qr/error="invalid_token"/,
    '... error="invalid_token"');
is(userinfo($t5->{refresh_token})->{status}, 401,
    'a refresh token is no access token');
($c2, $v2) = new_code();
$t = exchange($c2, $v2)->{json};
$f->sql("update sandbox_tokens set expires_at = 0 where hex(hash) = '"
      . uc(sha256_hex($t->{access_token})) . "'");
is(userinfo($t->{access_token})->{status}, 401, 'an expired token: 401');

# ---- other paths and methods ----

$r = req(GET => '/sandbox/nothing');
is($r->{status}, 404, 'an unknown sandbox path: 404');
$r = req(GET => '/sandbox/oauth/token');
is($r->{status}, 405, 'GET on the token endpoint: 405');

# ---- hostile input never hurts ----

for my $q ('', '?', '?=&=&&', '?client_id', '?%', '?a=%zz%',
    '?client_id=ferry&redirect_uri=' . ('%41' x 3000),
    '?client_id=%00&redirect_uri=%00', '?' . join('&', map {"p$_=1"} 1 .. 60))
{
    $r = req(GET => "$authorize$q");
    ok($r->{status} == 400 || $r->{status} == 414,
        "junk query '" . substr($q, 0, 30) . "': 400");
}
for my $b ('', '&&&', '=', 'step=login&request=', 'step=login&request=.',
    'step=consent&request=' . ('A' x 5000) . '.' . ('B' x 43),
    'step=login&request=' . enc(hidden($login_page, 'request')) . '&username='
      . ('%C3' x 10))
{
    $r = post_form($authorize, $b);
    is($r->{status}, 400, 'junk form: 400');
}
for my $b ('', 'grant_type=authorization_code&code=' . ('x' x 5000),
    'grant_type=refresh_token&refresh_token=%00')
{
    $r = token($b);
    is($r->{status}, 400, 'junk token request: 400');
}
$r = post_form('/sandbox/oauth/token', 'grant_type=x',
    authorization => 'Basic ' . ('A' x 3000));
is($r->{status}, 401, 'a huge Basic credential: 401');
ok($f->alive, 'the server is still up');
my $log = $f->log_text;
unlike($log, qr/\Q$secret\E/, 'the client secret never reaches the log');
unlike($log, qr/\Q$first_refresh\E|\Q$first_access\E|\Q$code\E/,
    'no code or token reaches the log');

$f->stop;
done_testing();

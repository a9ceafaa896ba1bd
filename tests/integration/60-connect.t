# The connect flow over HTTP, as a browser without JavaScript walks it:
# authenticateUser and the widget link, the SANDBOX provider's login
# and consent, the callback, the redirect back to the app, the events
# and rows it leaves, re-authentication, and the ways a login fails
# (the provider refusing, a replayed or forged callback, dead links,
# a token or profile endpoint that fails or never answers).
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use Digest::SHA qw(sha256_hex);
use IO::Socket::INET;
use POSIX qw(_exit);
use Test::More;
use Time::HiRes qw(sleep time);

my $UUID =
  qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
my $TIME = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
my @USER_KEYS = sort qw(user_id provider reference_id scopes active
  created_at last_webhook_update);

my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[provider oura]\nclient_id = cid\nclient_secret = cs\n"
      . "[provider withings]\nenabled = false\nclient_id = w\n"
      . "[links]\nmin_expires_in = 1\n");
my $dev = $f->developer('acme');
my $other = $f->developer('other');
$f->start;
my $base = $f->base;
my $auth = FerryTest::auth_headers($dev);

# Every HTML page met below, to check their headers at the end.
my @pages;

sub page {
    my ($name, $r) = @_;
    push @pages, [ $name, $r ];
    return $r;
}

sub events_of {
    my (@args) = @_;
    return $f->events('--dev', $dev->{dev_id}, '--limit', 100000, @args)
      // [];
}

# The account events: a connected SANDBOX user's backfill adds data
# events whenever it runs, which these counts are not about.
my %ACCOUNT = map { $_ => 1 } qw(auth deauth user_reauth access_revoked
    connection_error permission_change);

sub count_events {
    scalar grep { $ACCOUNT{ $_->{type} } } @{ events_of() };
}

sub user_info {
    my ($id, $d) = @_;
    return $f->fetch(GET => "/v2/userInfo?user_id=$id",
        headers => FerryTest::auth_headers($d // $dev));
}

sub session_of {
    my ($user_id) = @_;
    return $f->sql("select id from sessions where user_id = '$user_id'");
}

sub widget_session {
    my ($body, $d) = @_;
    my $r = $f->fetch(POST => '/v2/auth/generateWidgetSession',
        headers => FerryTest::auth_headers($d // $dev),
        body => $FerryTest::JSON->encode($body));
    die "generateWidgetSession: $r->{status} $r->{body}"
      if $r->{status} != 200;
    return $r->{json};
}

# A direct link and the provider's authorize URL its start link leads
# to: (the authenticateUser answer, that URL).
sub direct_started {
    my ($body) = @_;
    my $x = $f->authenticate_user($dev, 'SANDBOX', $body // {});
    die "authenticateUser: $x->{status} $x->{body}" if $x->{status} != 200;
    my $s = $f->fetch(GET => $x->{json}{auth_url});
    die "start link: $s->{status}" if $s->{status} != 302;
    return ($x->{json}, $s->{location});
}

# ---- authenticateUser ----

my $r = $f->authenticate_user({ dev_id => 'x', api_key => 'y' }, 'SANDBOX');
FerryTest::is_error($r, 401, qr/invalid dev-id or x-api-key/,
    'authenticateUser with wrong credentials: 401');
$r = $f->fetch(POST => '/v2/auth/authenticateUser?resource=SANDBOX',
    body => '{}');
FerryTest::is_error($r, 401, qr/dev-id or x-api-key headers are missing/,
    'authenticateUser without credentials: 401');
$r = $f->authenticate_user($dev, undef, {});
FerryTest::is_error($r, 400, qr/^resource: required/,
    'no resource: 400 naming resource');
$r = $f->authenticate_user($dev, '', {});
FerryTest::is_error($r, 400, qr/^resource: required/,
    'empty resource: 400 naming resource');
$r = $f->authenticate_user($dev, 'FITBYTE', {});
FerryTest::is_error($r, 400, qr/^resource: unknown provider 'FITBYTE'/,
    'unknown provider: 400 naming it');
$r = $f->authenticate_user($dev, 'WITHINGS', {});
FerryTest::is_error($r, 400, qr/^resource: .*'WITHINGS' is not enabled/,
    'disabled provider: 400 naming it');
$r = $f->authenticate_user($dev, 'GARMIN', {});
FerryTest::is_error($r, 400, qr/^resource: .*'GARMIN' is not enabled/,
    'known provider without a section: 400');
$r = $f->authenticate_user($dev, 'SANDBOX',
    { auth_success_redirect_url => 'javascript:alert(1)' });
FerryTest::is_error($r, 400, qr/^auth_success_redirect_url: /,
    'bad success URL: 400 naming it');
$r = $f->authenticate_user($dev, 'SANDBOX',
    { auth_failure_redirect_url => 'https://u@evil.example/' });
FerryTest::is_error($r, 400, qr/^auth_failure_redirect_url: user-info/,
    'failure URL with user-info: 400 naming it');
$r = $f->authenticate_user($dev, 'SANDBOX', { language => '<b>' });
FerryTest::is_error($r, 400, qr/^language: /, 'bad language: 400');
$r = $f->fetch(POST => '/v2/auth/authenticateUser?resource=SANDBOX',
    headers => $auth, body => '[1]');
FerryTest::is_error($r, 400, qr/^body: expected a JSON object/,
    'body not an object: 400');
is($f->sql("select count(*) from sessions"), 0,
    'no session stored by any refused request');

$r = $f->fetch(POST => '/v2/auth/authenticateUser', headers => $auth,
    body => '{"resource":"SANDBOX"}');
is($r->{status}, 200, 'resource in the body is accepted') or diag($r->{body});
$r = $f->authenticate_user($dev, 'sandbox', {});
is($r->{status}, 200, 'resource in lower case is accepted');
is($f->sql("select resource from sessions where user_id = "
      . "'$r->{json}{user_id}'"), 'SANDBOX', '... and stored as SANDBOX');

$r = $f->fetch(POST => '/v2/auth/authenticateUser?resource=SANDBOX',
    headers => $auth, body => '');
is($r->{status}, 200, 'empty body: 200');
is_deeply([ sort keys %{ $r->{json} } ], [qw(auth_url status user_id)],
    'answer: exactly status, user_id, auth_url');
is($r->{json}{status}, 'success', 'status success');
like($r->{json}{user_id}, $UUID, 'user_id is a UUID v4');
like($r->{json}{auth_url}, qr{^\Q$base\E/connect/[A-Za-z0-9_-]{32}$},
    'auth_url is <base>/connect/<token>');
my $sid = session_of($r->{json}{user_id});
like($sid, $UUID, 'a session holds the reserved user id');
is($f->sql("select kind || '|' || resource || '|' || dev_id || '|' ||"
      . " ifnull(completed_at, 'open') from sessions where id = '$sid'"),
    "direct|SANDBOX|$dev->{dev_id}|open", 'stored: a direct, open link');
is($f->sql("select (expires_at - created_at) / 1000000 from sessions"
      . " where id = '$sid'"), 900, 'a direct link lives 900 s');
is($f->sql("select count(*) from users"), 0, 'no user before the login');

# ---- the direct flow, to the end ----

my $c = $f->connect_sandbox($dev, username => 'alice', body => {
    reference_id => 'user-1',
    auth_success_redirect_url => 'https://app.example/ok?x=1#f',
    auth_failure_redirect_url => 'https://app.example/fail' });
my $uid = $c->{user_id};
my $start = $c->{start};
is($start->{status}, 302, 'the start link answers 302');
like($start->{location}, qr{^\Q$base\E/sandbox/oauth/authorize\?},
    '... to the provider authorize URL');
my $q = $start->{query};
is($q->{response_type}, 'code', 'authorize: response_type=code');
is($q->{client_id}, 'ferry', 'authorize: ferry is the client');
is($q->{redirect_uri}, "$base/callback/sandbox",
    'authorize: redirect_uri is <base>/callback/sandbox');
is($q->{code_challenge_method}, 'S256', 'authorize: PKCE S256');
like($q->{code_challenge}, qr/^[A-Za-z0-9_-]{43}$/, 'authorize: challenge');
like($q->{state}, qr/^[A-Za-z0-9_-]{22,}$/, 'authorize: a state of 128+ bits');
is($f->sql("select hex(state_hash) from auth_attempts where user_id ="
      . " '$uid'"), uc(sha256_hex($q->{state})),
    'the state is stored as its SHA-256 only');
like($c->{callback}, qr{^\Q$base\E/callback/sandbox\?code=.+&state=},
    'the provider sends the browser to the callback');

my $fin = $c->{final};
is($fin->{status}, 302, 'callback: 302 to the app');
like($fin->{location}, qr{^https://app\.example/ok\?x=1&[^#]*#f$},
    'the success URL keeps its query first and its fragment last');
is_deeply($fin->{query}, { x => '1', user_id => $uid,
        reference_id => 'user-1', resource => 'SANDBOX' },
    'success parameters: user_id (the reserved id), reference_id, resource');
is($fin->{headers}{'referrer-policy'}, 'no-referrer',
    'the redirect sends no referrer');

$r = user_info($uid);
is($r->{status}, 200, 'userInfo knows the new user');
is($r->{json}{user}{reference_id}, 'user-1', '... with its reference_id');
is($r->{json}{user}{provider}, 'SANDBOX', '... and provider');
is($r->{json}{is_authenticated}, JSON::PP::true, '... authenticated');

$sid = session_of($uid);
is($f->sql("select count(*) from sessions where id = '$sid'"
      . " and completed_at is not null and resource = 'SANDBOX'"), 1,
    'the link is completed with the user');
is($f->sql("select count(*) from auth_attempts where user_id = '$uid'"
      . " and used_at is not null"), 1, 'the attempt is used up');
is($f->sql("select state || '|' || active from users where id = '$uid'"),
    'connected|1', 'the user row is connected and active');
like($f->sql("select provider_user_id from users where id = '$uid'"),
    qr/^sbx_[0-9a-f]{24}$/, 'the provider account is the sandbox account');
is($f->sql("select count(*) from tokens where user_id = '$uid'"), 1,
    'one sealed token row');
is($f->sql("select count(*) from sandbox_tokens where account = 'alice'"
      . " and kind = 'refresh' and revoked_at is null"), 1,
    'the provider holds one live grant for the account');
is($f->sql("select count(*) from tokens where instr(sealed, 'Bearer') > 0"
      . " or instr(sealed, 'access_token') > 0"), 0,
    'the token row holds no readable token');

my $evs = events_of('--type', 'auth');
is(scalar @$evs, 1, 'one auth event');
my $ev = $evs->[0];
my $eb = $ev->{body};
is($ev->{user_id}, $uid, 'the event names the user');
is_deeply([ sort keys %$eb ],
    [ sort qw(type status user reference_id widget_session_id message
          version ferry) ], 'auth event: exactly the documented keys');
is_deeply([ sort keys %{ $eb->{user} } ], \@USER_KEYS,
    'auth event user: exactly the TerraUser keys');
is($eb->{type}, 'auth', 'type auth');
is($eb->{status}, 'success', 'status success');
is($eb->{user}{user_id}, $uid, 'user.user_id');
is($eb->{user}{provider}, 'SANDBOX', 'user.provider');
is($eb->{user}{reference_id}, 'user-1', 'user.reference_id');
ok(defined $eb->{user}{scopes} && length $eb->{user}{scopes},
    'user.scopes set');
is($eb->{user}{active}, JSON::PP::true, 'user.active true');
like($eb->{user}{created_at}, $TIME,
    'user.created_at is YYYY-MM-DDTHH:MM:SS.ffffff+00:00');
ok(!defined $eb->{user}{last_webhook_update},
    'user.last_webhook_update null');
is($eb->{reference_id}, 'user-1', 'reference_id');
is($eb->{widget_session_id}, $sid, 'widget_session_id is the link session');
is($eb->{message}, 'User has successfully authenticated', 'message');
is($eb->{version}, '2022-03-16', 'version');
is_deeply($eb->{ferry}, { event_id => $ev->{id} },
    'ferry.event_id is the event id');
like($ev->{id}, $UUID, 'the event id is a UUID');

# ---- success URLs of other shapes ----

$c = $f->connect_sandbox($dev, username => 'app-user',
    body => { auth_success_redirect_url => 'myapp://done' });
like($c->{final}{location},
    qr{^myapp://done\?user_id=[0-9a-f-]{36}&reference_id=null
       &resource=SANDBOX$}x,
    'app scheme success URL gets the parameters');
is($c->{final}{query}{reference_id}, 'null',
    'no reference_id: the string null');
is($c->{final}{query}{user_id}, $c->{user_id}, '... with the user id');

$c = $f->connect_sandbox($dev, username => 'q-user',
    body => { auth_success_redirect_url => 'https://app.example/ok?' });
like($c->{final}{location}, qr{^https://app\.example/ok\?user_id=},
    'a success URL ending in ? gets no second separator');

$c = $f->connect_sandbox($dev, username => 'plain', body => {});
page('success page', $c->{final});
is($c->{final}{status}, 200, 'no success URL: ferry\'s own page, 200');
like($c->{final}{headers}{'content-type'}, qr{^text/html},
    '... an HTML page');
ok(!defined $c->{final}{location}, '... not a redirect');
is(user_info($c->{user_id})->{status}, 200, '... and the user exists');

# ---- the user denies access ----

my $before = count_events();
my ($da, $authorize) = direct_started({ reference_id => 'deny-ref',
        auth_failure_redirect_url => 'https://app.example/fail?from=ferry' });
my $consent = $f->sandbox_authorize($authorize, 'denier', 'deny');
is($consent->{status}, 302, 'deny: the provider redirects back');
is($consent->{query}{error}, 'access_denied', '... with error=access_denied');
$r = $f->fetch(GET => $consent->{location});
is($r->{status}, 302, 'deny: 302 to the failure URL');
like($r->{location}, qr{^https://app\.example/fail\?from=ferry&},
    '... keeping its own query');
is_deeply($r->{query}, { from => 'ferry', user_id => $da->{user_id},
        reference_id => 'deny-ref', resource => 'SANDBOX',
        reason => 'access_denied' },
    'failure parameters: user_id, reference_id, resource, reason');
$evs = events_of('--type', 'auth');
is(count_events(), $before + 1, 'one event more');
$eb = $evs->[-1]{body};
is($eb->{status}, 'error', 'auth error event: status error');
is($eb->{reason}, 'access_denied', '... reason access_denied');
is($eb->{provider}, 'SANDBOX', '... provider');
is($eb->{reference_id}, 'deny-ref', '... reference_id');
is($eb->{user}{user_id}, $da->{user_id}, '... user.user_id the reserved id');
is($eb->{user}{active}, JSON::PP::false, '... user.active false');
is($eb->{widget_session_id}, $f->sql("select id from sessions where"
      . " user_id = '$da->{user_id}'"), '... widget_session_id');
ok(defined $eb->{message} && length $eb->{message}, '... a message');
is($eb->{ferry}{event_id}, $evs->[-1]{id}, '... ferry.event_id');
is_deeply([ sort keys %$eb ],
    [ sort qw(type status user provider message reason reference_id
          widget_session_id version ferry) ],
    'auth error event: exactly the documented keys');
ok(!defined $evs->[-1]{user_id}, 'the event names no stored user');
FerryTest::is_error(user_info($da->{user_id}), 404, qr/^user_id: no user/,
    'denied: userInfo 404');
is($f->sql("select count(*) from users where id = '$da->{user_id}'"), 0,
    'no user row');

# the link did not complete: it can start a new login, and that one works
$r = $f->fetch(GET => $da->{auth_url});
is($r->{status}, 302, 'after a denial the start link works again');
$consent = $f->sandbox_authorize($r->{location}, 'denier', 'allow');
$r = $f->fetch(GET => $consent->{location});
is(user_info($da->{user_id})->{status}, 200,
    '... and completes with the reserved id');

# ---- callbacks that must not connect anything ----

# replaying the callback URL of a completed login
$c = $f->connect_sandbox($dev, username => 'replay', body => {
    reference_id => 'replay-ref',
    auth_failure_redirect_url => 'https://app.example/fail' });
my $n_users = $f->sql("select count(*) from users");
my $n_events = count_events();
$r = $f->fetch(GET => $c->{callback});
is($r->{status}, 302, 'replayed callback: 302 to the failure URL');
is($r->{query}{reason}, 'link_used', '... reason=link_used');
is($r->{query}{user_id}, $c->{user_id}, '... with the user id');
is($f->sql("select count(*) from users"), $n_users, 'still one user');
is(user_info($c->{user_id})->{status}, 200, 'the user is untouched');
$f->fetch(GET => $c->{callback}) for 1 .. 5;
is(count_events(), $n_events,
    'a replay adds no event: whoever holds the URL cannot fill the outbox');

$before = count_events();
$r = page('garbage state', $f->fetch(GET =>
      '/callback/sandbox?code=abc&state=not-a-state-we-made'));
is($r->{status}, 400, 'unknown state: 400');
like($r->{headers}{'content-type'}, qr{^text/html}, '... an HTML page');
like($r->{body}, qr/invalid_state/, '... saying invalid_state');
$r = page('no state', $f->fetch(GET => '/callback/sandbox?code=abc'));
is($r->{status}, 400, 'no state: 400');
$r = $f->fetch(GET => '/callback/sandbox?code=abc&state=');
is($r->{status}, 400, 'empty state: 400');
$r = $f->fetch(GET => '/callback/sandbox?state=' . ('s' x 600));
is($r->{status}, 400, 'over-long state: 400');
$r = $f->fetch(GET => '/callback/sandbox');
is($r->{status}, 400, 'no parameters at all: 400');
is(count_events(), $before, 'no event for a state nobody made');

# a real state on the callback path of another provider
($da, $authorize) = direct_started({ reference_id => 'cross',
        auth_failure_redirect_url => 'https://app.example/fail' });
my $state = FerryTest::query_params($authorize)->{state};
$r = $f->fetch(GET => "/callback/oura?code=abc&state=$state");
ok($r->{status} < 500, "another provider's path: not a 5xx ($r->{status})");
is($r->{query}{reason}, 'invalid_state',
    '... the failure URL with reason=invalid_state');
ok(!defined $r->{query}{code}, '... the code is not passed on');
is(user_info($da->{user_id})->{status}, 404, '... and no user');

($da, $authorize) = direct_started({ reference_id => 'cross2',
        auth_failure_redirect_url => 'https://app.example/fail' });
$state = FerryTest::query_params($authorize)->{state};
$r = $f->fetch(GET => "/callback/other?code=abc&state=$state");
ok($r->{status} < 500, "a path of no provider: not a 5xx ($r->{status})");
ok($r->{status} == 404 || $r->{status} == 400,
    "a path of no provider: 404 or 400 (got $r->{status})");
$consent = $f->sandbox_authorize($authorize, 'cross2', 'allow');
$r = $f->fetch(GET => $consent->{location});
is($r->{status}, 200,
    'the real callback afterwards: ferry\'s success page (no success URL)');
ok(!defined $r->{query}{reason},
    '... the login completes: a path of no provider did not use it up')
  or diag("reason=$r->{query}{reason}");

# the same callback twice at once (a double click, a browser retry):
# one login completes, with a grant the provider still honours
my @races;
for my $i (1 .. 10) {
    my $x = $f->authenticate_user($dev, 'SANDBOX',
        { auth_failure_redirect_url => 'https://app.example/fail',
          auth_success_redirect_url => 'https://app.example/ok' });
    my $s = $f->fetch(GET => $x->{json}{auth_url});
    my $cbu = $f->sandbox_authorize($s->{location}, "twice$i")->{location};
    my @fh;
    for (1 .. 2) {
        my $pid = open(my $fh, '-|') // die "fork: $!";
        if ($pid == 0) {
            my $y = $f->fetch(GET => $cbu);
            print $y->{location} // "status $y->{status}";
            _exit(0);
        }
        push @fh, $fh;
    }
    my @got = map { local $/; my $l = readline($_); close($_); $l } @fh;
    my @ends = map { /reason=(\w+)/ ? $1 : /^https:\/\/app.example\/ok/
          ? 'success' : $_ } @got;
    my $live = $f->sql("select count(*) from sandbox_tokens where"
          . " account = 'twice$i' and kind = 'refresh'"
          . " and revoked_at is null");
    my $users = $f->sql("select count(*) from users"
          . " where id = '$x->{json}{user_id}'");
    push @races, "try $i: @ends; users $users; live grants $live"
      unless (grep { $_ eq 'success' } @ends) == 1 && $users == 1
      && $live == 1;
}
is_deeply(\@races, [], 'the same callback twice at once, 10 tries: '
      . 'each time one user with a grant the provider honours')
  or diag(join("\n", @races));
is($f->request(GET => '/healthz')->{status}, 200, 'still serving');

# the provider sends neither a code nor an error
($da, $authorize) = direct_started({ reference_id => 'nocode',
        auth_failure_redirect_url => 'https://app.example/fail' });
$state = FerryTest::query_params($authorize)->{state};
$r = $f->fetch(GET => "/callback/sandbox?state=$state");
is($r->{status}, 302, 'no code: 302 to the failure URL');
is($r->{query}{reason}, 'provider_error', '... reason=provider_error');
is($r->{query}{user_id}, $da->{user_id}, '... with the reserved id');

# another error from the provider
($da, $authorize) = direct_started({
        auth_failure_redirect_url => 'https://app.example/fail' });
$state = FerryTest::query_params($authorize)->{state};
$r = $f->fetch(GET => "/callback/sandbox?state=$state&error=server_error");
is($r->{query}{reason}, 'provider_error',
    'error=server_error: reason=provider_error');

# a code the provider never issued
($da, $authorize) = direct_started({
        auth_failure_redirect_url => 'https://app.example/fail' });
$state = FerryTest::query_params($authorize)->{state};
$r = $f->fetch(GET => "/callback/sandbox?state=$state&code=forged");
is($r->{query}{reason}, 'token_exchange_failed',
    'a forged code: reason=token_exchange_failed');
is(user_info($da->{user_id})->{status}, 404, '... and no user');
$r = $f->fetch(GET => "/callback/sandbox?state=$state&code=forged");
is($r->{query}{reason}, 'invalid_state', 'the used state again: invalid_state');

# no failure URL: ferry's own failure page
($da, $authorize) = direct_started({});
$state = FerryTest::query_params($authorize)->{state};
$r = page('failure page', $f->fetch(GET =>
      "/callback/sandbox?state=$state&error=access_denied"));
ok($r->{status} == 200 || $r->{status} == 400,
    "no failure URL: ferry's page ($r->{status})");
like($r->{headers}{'content-type'}, qr{^text/html}, '... HTML');
like($r->{body}, qr/access_denied/, '... naming the reason');

# ---- dead links ----

$c = $f->connect_sandbox($dev, username => 'done-link', body => {});
$r = page('used link', $f->fetch(GET => $c->{auth}{json}{auth_url}));
is($r->{status}, 410, 'the start link after completion: 410');
like($r->{headers}{'content-type'}, qr{^text/html}, '... an HTML page');
ok(!defined $r->{location}, '... starting nothing');

my $w = widget_session({ providers => 'SANDBOX', language => 'de',
        expires_in => 1 });
my $t0 = time;
$r = $f->fetch(GET => $w->{url});
is($r->{status}, 200, 'a 1 s widget link works at first') if time - $t0 < 1;
sleep(1.2);
$r = page('expired link', $f->fetch(GET => $w->{url}));
is($r->{status}, 410, 'an expired widget link: 410');
like($r->{body}, qr/<html lang="de">/, '... in the link\'s language');
$r = $f->fetch(POST => $w->{url},
    form => [ resource => 'SANDBOX', csrf => 'x' x 32 ]);
is($r->{status}, 410, 'posting to an expired link: 410');
ok(!defined $r->{location}, '... starting nothing');

$r = page('unknown link', $f->fetch(GET => '/widget/nosuchtoken'));
is($r->{status}, 404, 'unknown widget token: 404');
like($r->{headers}{'content-type'}, qr{^text/html}, '... an HTML page');
$r = $f->fetch(GET => '/connect/nosuchtoken');
is($r->{status}, 404, 'unknown start token: 404');
$r = $f->fetch(GET => '/connect/' . ('A' x 300));
is($r->{status}, 404, 'over-long token: 404');
$w = widget_session({ providers => 'SANDBOX' });
my ($wtoken) = $w->{url} =~ m{/widget/(.+)$};
$r = $f->fetch(GET => "/connect/$wtoken");
is($r->{status}, 404, 'a widget token on /connect/: 404');
($da) = direct_started({});
my ($dtoken) = $da->{auth_url} =~ m{/connect/(.+)$};
$r = $f->fetch(GET => "/widget/$dtoken");
is($r->{status}, 404, 'a start token on /widget/: 404');

# a link that expires between the pick and the callback
$w = widget_session({ providers => 'SANDBOX', expires_in => 3,
        auth_failure_redirect_url => 'https://app.example/fail' });
$t0 = time;
$r = $f->fetch(GET => $w->{url});
$r = $f->fetch(POST => $w->{url}, form => [ resource => 'SANDBOX',
        csrf => FerryTest::hidden_value($r->{body}, 'csrf') ]);
is($r->{status}, 303, 'a 3 s link: the pick starts a login');
$consent = $f->sandbox_authorize($r->{location}, 'slow', 'allow');
sleep(3.2 - (time - $t0)) if time - $t0 < 3.2;
$r = $f->fetch(GET => $consent->{location});
is($r->{query}{reason}, 'link_expired',
    'a callback after the link expired: reason=link_expired');
ok(defined $r->{query}{user_id}, '... with the reserved id');

# ---- the widget picker and its form ----

$w = widget_session({ providers => 'SANDBOX,OURA', reference_id => 'wref',
        auth_success_redirect_url => 'https://app.example/ok',
        auth_failure_redirect_url => 'https://app.example/fail' });
($wtoken) = $w->{url} =~ m{/widget/(.+)$};
$r = page('picker', $f->fetch(GET => $w->{url}));
is($r->{status}, 200, 'the picker: 200');
like($r->{body}, qr{<form method="post" action="/widget/\Q$wtoken\E">},
    '... a form posting to the link');
like($r->{body},
    qr{<button type="submit" name="resource" value="SANDBOX"},
    '... a SANDBOX button');
like($r->{body}, qr{<button type="submit" name="resource" value="OURA"},
    '... an OURA button');
my $csrf = FerryTest::hidden_value($r->{body}, 'csrf');
like($csrf, qr/^[0-9a-f]{32}$/, '... an anti-forgery value');
my $csrf_other = FerryTest::hidden_value($f->fetch(GET =>
      widget_session({ providers => 'SANDBOX' })->{url})->{body}, 'csrf');
isnt($csrf_other, $csrf, 'each link has its own anti-forgery value');

my $attempts = sub { $f->sql("select count(*) from auth_attempts") };
my $n_att = $attempts->();
my @bad_forms = (
    [ 'wrong csrf', form => [ resource => 'SANDBOX', csrf => 'f' x 32 ] ],
    [ 'csrf of another link',
        form => [ resource => 'SANDBOX', csrf => $csrf_other ] ],
    [ 'short csrf', form => [ resource => 'SANDBOX', csrf => 'abc' ] ],
    [ 'no csrf', form => [ resource => 'SANDBOX' ] ],
    [ 'missing resource', form => [ csrf => $csrf ] ],
    [ 'empty resource', form => [ resource => '', csrf => $csrf ] ],
    [ 'resource not offered by the link',
        form => [ resource => 'WITHINGS', csrf => $csrf ] ],
    [ 'unknown resource', form => [ resource => 'NOPE', csrf => $csrf ] ],
    [ 'duplicate csrf fields',
        form => [ resource => 'SANDBOX', csrf => $csrf, csrf => $csrf ] ],
    [ 'duplicate resource fields',
        form => [ resource => 'SANDBOX', resource => 'OURA', csrf => $csrf ] ],
    [ 'a JSON body', body => '{"resource":"SANDBOX","csrf":"' . $csrf . '"}',
        headers => { 'content-type' => 'application/json' } ],
    [ 'a bad escape', body => "resource=SANDBOX&csrf=$csrf&x=%zz" ],
    [ 'a NUL byte', body => "resource=SANDBOX%00&csrf=$csrf" ],
    [ 'invalid UTF-8', body => "resource=%ff%fe&csrf=$csrf" ],
    [ 'raw binary', body => join('', map { chr } 0 .. 255) ],
    [ 'too many fields',
        body => join('&', "resource=SANDBOX&csrf=$csrf",
            map { "f$_=1" } 1 .. 40) ],
    [ 'an empty body', body => '' ],
);
for my $case (@bad_forms) {
    my ($name, %o) = @$case;
    my $x = $f->fetch(POST => $w->{url}, %o);
    is($x->{status}, 400, "widget form, $name: 400");
    ok(!defined $x->{location}, "... nothing started ($name)");
    like($x->{headers}{'content-type'} // '', qr{^text/html},
        "... an HTML page ($name)");
}
page('bad form', $f->fetch(POST => $w->{url},
        form => [ resource => 'SANDBOX', csrf => 'f' x 32 ]));
is($attempts->(), $n_att, 'no attempt recorded by any bad form');
is($f->request(GET => '/healthz')->{status}, 200, 'still serving');

# one link, two picks: it completes once
my @picks;
for (1 .. 2) {
    my $x = $f->fetch(POST => $w->{url},
        form => [ resource => 'sandbox', csrf => $csrf ]);
    is($x->{status}, 303, "pick $_: 303");
    like($x->{location}, qr{^\Q$base\E/sandbox/oauth/authorize\?},
        "... to the provider");
    push @picks, $x->{location};
}
is($attempts->(), $n_att + 2, 'two attempts recorded');
my @cb = map { $f->sandbox_authorize($_, 'widget-user', 'allow')->{location} }
  @picks;
$r = $f->fetch(GET => $cb[1]);
is($r->{status}, 302, 'the second pick completes first');
my $wq = $r->{query};
like($r->{location}, qr{^https://app\.example/ok\?}, '... at the success URL');
is($wq->{reference_id}, 'wref', '... reference_id');
is($wq->{resource}, 'SANDBOX', '... resource');
like($wq->{user_id}, $UUID, '... a new user id');
is($f->sql("select user_id || '|' || resource from sessions where id ="
      . " '$w->{session_id}'"), "$wq->{user_id}|SANDBOX",
    'the widget session records the user and the provider');
is(events_of('--type', 'auth')->[-1]{body}{widget_session_id},
    $w->{session_id}, 'the auth event names the widget session');
$r = $f->fetch(GET => $cb[0]);
is($r->{query}{reason}, 'link_used', 'the other pick then: link_used');
isnt($r->{query}{user_id}, $wq->{user_id},
    '... naming its own reserved id');
is($f->sql("select count(*) from users where session_id ="
      . " '$w->{session_id}'"), 1, 'one user from the link');
$r = page('used widget link', $f->fetch(GET => $w->{url}));
is($r->{status}, 410, 'the completed widget link: 410');
$r = $f->fetch(POST => $w->{url},
    form => [ resource => 'SANDBOX', csrf => $csrf ]);
is($r->{status}, 410, 'posting to the completed link: 410');
ok(!defined $r->{location}, '... starting nothing');

# ---- re-authentication ----

sub connect_as {
    my ($username, $ref) = @_;
    my $x = $f->connect_sandbox($dev, username => $username,
        body => { defined $ref ? (reference_id => $ref) : () });
    die "connect $username: $x->{final}{status}"
      if $x->{final}{status} != 200;
    return $x->{user_id};
}

sub reauths { events_of('--type', 'user_reauth') }

my $u1 = connect_as('bob', 'r-bob');
my $n_reauth = scalar @{ reauths() };
my $u2 = connect_as('bob', 'r-bob');
isnt($u2, $u1, 'same account and reference_id: a new user_id');
is(user_info($u1)->{status}, 404, 'the old user is gone (userInfo 404)');
is(user_info($u2)->{status}, 200, 'the new user is there');
is($f->sql("select state || '|' || active from users where id = '$u1'"),
    'deauthorized|0', 'the old row is deauthorized and inactive');
is($f->sql("select count(*) from tokens where user_id = '$u1'"), 0,
    'the old tokens are deleted');
my $re = reauths();
is(scalar @$re, $n_reauth + 1, 'one user_reauth event');
$eb = $re->[-1]{body};
is($eb->{old_user}{user_id}, $u1, 'user_reauth: old_user.user_id');
is($eb->{new_user}{user_id}, $u2, 'user_reauth: new_user.user_id');
is($eb->{status}, 'warning', 'user_reauth: status warning');
is($eb->{type}, 'user_reauth', 'user_reauth: type');
ok(defined $eb->{message}, 'user_reauth: a message');
is($eb->{ferry}{event_id}, $re->[-1]{id}, 'user_reauth: ferry.event_id');
is_deeply([ sort keys %{ $eb->{new_user} } ], \@USER_KEYS,
    'user_reauth: new_user is a TerraUser');
my $auth_evs = events_of('--type', 'auth');
is($auth_evs->[-1]{body}{user}{user_id}, $u2,
    'an auth event for the new user too');
ok($auth_evs->[-1]{seq} < $re->[-1]{seq},
    'the auth event comes before the user_reauth event');

my $u3 = connect_as('BOB', 'r-bob');
is(scalar @{ reauths() }, $n_reauth + 2,
    'the same name in other case is the same account: user_reauth');
is(user_info($u2)->{status}, 404, '... replacing the previous user');

my $u4 = connect_as('bob', 'r-other');
is(user_info($u3)->{status}, 200, 'other reference_id: the first stays');
is(user_info($u4)->{status}, 200, '... and a second user exists');
is(user_info($u3)->{json}{user}{active}, JSON::PP::true, 'both active');
is(user_info($u4)->{json}{user}{active}, JSON::PP::true, '...');
is(scalar @{ reauths() }, $n_reauth + 2, '... no user_reauth');

my $u5 = connect_as('carol', 'r-bob');
is(user_info($u3)->{status}, 200, 'other account, same reference_id: '
      . 'the first stays');
is(user_info($u5)->{status}, 200, '... and a second user exists');
is(scalar @{ reauths() }, $n_reauth + 2, '... no user_reauth');

my $u6 = connect_as('nobody-ref', undef);
my $u7 = connect_as('nobody-ref', undef);
is(user_info($u6)->{status}, 404,
    'no reference_id both times: the same end user, replaced');
is(scalar @{ reauths() }, $n_reauth + 3, '... with user_reauth');

$r = $f->fetch(DELETE => "/v2/auth/deauthenticateUser?user_id=$u3",
    headers => $auth);
is($r->{status}, 200, 'deauthenticate the current bob user');
my $u8 = connect_as('bob', 'r-bob');
is(user_info($u8)->{status}, 200, 'connecting after a deauth: a new user');
is(scalar @{ reauths() }, $n_reauth + 3,
    '... and no user_reauth (nothing was replaced)');

$f->connect_sandbox($other, username => 'bob',
    body => { reference_id => 'r-bob' });
is(user_info($u8)->{status}, 200,
    'another developer connecting the same account replaces nothing');
is(scalar @{ reauths() }, $n_reauth + 3, '... and no user_reauth for us');

# ---- security headers on every HTML page ----

my $login = page('sandbox login page',
    $f->fetch(GET => (direct_started({}))[1]));
page('sandbox consent page', $f->fetch(POST => '/sandbox/oauth/authorize',
        form => [ step => 'login', username => 'headers',
            request => FerryTest::hidden_value($login->{body}, 'request') ]));
for my $p (@pages) {
    my ($name, $x) = @$p;
    my $h = $x->{headers};
    my $csp = $h->{'content-security-policy'} // '';
    like($h->{'content-type'} // '', qr{^text/html}, "$name: HTML");
    ok(length $csp && $csp !~ /unsafe-inline/,
        "$name: a CSP without 'unsafe-inline'") or diag($csp);
    like($csp, qr/frame-ancestors 'none'/, "$name: CSP refuses framing");
    is($h->{'x-frame-options'}, 'DENY', "$name: X-Frame-Options DENY");
    is($h->{'referrer-policy'}, 'no-referrer',
        "$name: Referrer-Policy no-referrer");
}

# HTTP::Tiny gives a header sent more than once as an array of values
sub twice {
    my ($h) = @_;
    return map { "$_: " . join(' | ', @{ $h->{$_} }) }
      grep { ref $h->{$_} eq 'ARRAY' } sort keys %$h;
}
my @dups = map { my @t = twice($_->[1]{headers}); @t ? "$_->[0]: @t" : () }
  @pages;
is_deeply(\@dups, [], 'no HTML page sends a header twice');
$r = $f->fetch(GET => '/widget/icons/SANDBOX.svg');
is($r->{status}, 200, 'the provider icon');
my $cc = $r->{headers}{'cache-control'};
is(ref $cc ? join(' | ', @$cc) : $cc, 'public, max-age=86400',
    '... with one Cache-Control, which lets it be cached');

# HEAD of the start link and the callback acts on nothing
{
    my ($dh, $az) = direct_started({ reference_id => 'head' });
    my $sid = session_of($dh->{user_id});
    my $before_at = $f->sql(
        "select count(*) from auth_attempts where session_id = '$sid'");
    $r = $f->fetch(HEAD => $dh->{auth_url});
    is($r->{status}, 200, 'HEAD of a start link: 200');
    is($f->sql("select count(*) from auth_attempts where session_id = '$sid'"),
        $before_at, '... starts no login');
    my $st = FerryTest::query_params($az)->{state};
    $r = $f->fetch(HEAD => "/callback/sandbox?code=x&state=$st");
    is($r->{status}, 200, 'HEAD of a callback: 200');
    is($f->sql("select count(*) from auth_attempts where session_id = '$sid'"
          . " and used_at is not null"), 0, '... uses no attempt');

    # a start link fetched in a loop stops making attempts
    my $last;
    $last = $f->fetch(GET => $dh->{auth_url})->{status} for 1 .. 64;
    is($last, 403, 'a link past 64 logins refuses more');
    is($f->sql("select count(*) from auth_attempts where session_id = '$sid'"),
        64, '... and holds 64 attempts');
}

# redirect URLs whose origin is unusual still give a working picker
for my $u ('HTTPS://App.Example:/ok', 'myapp://done') {
    my $ws = widget_session({ providers => 'SANDBOX',
            auth_success_redirect_url => $u,
            auth_failure_redirect_url => 'https://app.example/fail' });
    $r = $f->fetch(GET => $ws->{url});
    is($r->{status}, 200, "a picker for a success URL of $u");
    my $csp = $r->{headers}{'content-security-policy'} // '';
    my @fa = ($csp =~ /form-action ([^;]*)/);
    my $n = () = ($fa[0] // '') =~ m{https://app\.example(?=\s|$)}g;
    is($n, 1, '... the shared origin listed once, in lower case');
}
# ... and hosts the page's policy could not name are refused up front
for my $u ('https://[::1]:8443/ok', 'https://my_app.example/x',
    'https://%61pp.example/', 'https://' . ('a' x 254) . '/') {
    $r = $f->fetch(POST => '/v2/auth/generateWidgetSession',
        headers => FerryTest::auth_headers($dev),
        body => $FerryTest::JSON->encode({ providers => 'SANDBOX',
                auth_success_redirect_url => $u }));
    FerryTest::is_error($r, 400, qr/^auth_success_redirect_url: the host/,
        'a success URL of ' . substr($u, 0, 40) . ': 400');
}

# a page of no link's language follows the browser's
$r = $f->fetch(GET => '/widget/no-such-token',
    headers => { 'accept-language' => 'ja-JP,ja;q=0.9,en;q=0.5' });
like($r->{body}, qr/<html lang="ja"/,
    'an unknown link in the browser\'s language');
$r = $f->fetch(GET => '/widget/no-such-token',
    headers => { 'accept-language' => 'xx, *' });
like($r->{body}, qr/<html lang="en"/, '... English when unsupported');

ok($f->alive, 'the server is still running');
$f->stop;

# ---- a provider whose token or profile endpoint fails ----

# A port where nothing listens: bound, then closed.
sub dead_port {
    my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1',
        LocalPort => 0, ReuseAddr => 1) or die "socket: $!";
    my $port = $s->sockport;
    close($s);
    return $port;
}

# A socket that accepts connections (the kernel does) but never answers.
my $silent = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
    LocalPort => 0, ReuseAddr => 1) or die "socket: $!";
my $silent_port = $silent->sockport;

# A tiny provider: POST /token answers a token, GET /userinfo a profile,
# anything else 500. It runs in a child process until killed.
my $fake = IO::Socket::INET->new(Listen => 16, LocalAddr => '127.0.0.1',
    LocalPort => 0, ReuseAddr => 1) or die "socket: $!";
my $fake_port = $fake->sockport;
my $fake_pid = fork();
die "fork: $!" unless defined $fake_pid;
if ($fake_pid == 0) {
    while (my $conn = $fake->accept) {
        my $head = '';
        while (defined(my $line = <$conn>)) {
            $head .= $line;
            last if $line eq "\r\n";
        }
        my ($len) = $head =~ /^content-length:\s*(\d+)/mi;
        read($conn, my $discard, $len) if $len;
        my ($method, $path) = $head =~ /^(\S+) (\S+)/;
        my ($code, $body) = (500, '{"error":"server_error"}');
        if ($method eq 'POST' && $path eq '/token') {
            ($code, $body) = (200, '{"access_token":"at-1",'
                  . '"token_type":"Bearer","expires_in":3600}');
        } elsif ($method eq 'GET' && $path eq '/userinfo') {
            ($code, $body) = (200, '{"sub":"fake-account-1"}');
        }
        print $conn "HTTP/1.1 $code X\r\nContent-Type: application/json\r\n"
          . "Content-Length: " . length($body) . "\r\n"
          . "Connection: close\r\n\r\n$body";
        close($conn);
    }
    _exit(0);
}
close($fake);

my $refused = dead_port();
my $generic = "type = oauth2\nclient_id = cid\nclient_secret = cs\n"
  . "authorize_url = /sandbox/oauth/authorize\nuser_id_field = sub\n";
my $g = FerryTest->new(config => "[provider sandbox]\n"
      . "[oauth]\ntoken_timeout_seconds = 1\n"
      . "[provider refused]\n$generic"
      . "token_url = http://127.0.0.1:$refused/token\n"
      . "[provider silent]\n$generic"
      . "token_url = http://127.0.0.1:$silent_port/token\n"
      . "[provider noprofile]\n$generic"
      . "token_url = http://127.0.0.1:$fake_port/token\n"
      . "userinfo_url = http://127.0.0.1:$refused/userinfo\n"
      . "[provider badprofile]\n$generic"
      . "token_url = http://127.0.0.1:$fake_port/token\n"
      . "userinfo_url = http://127.0.0.1:$fake_port/broken\n"
      . "[provider badtoken]\n$generic"
      . "token_url = http://127.0.0.1:$fake_port/no-such-token\n"
      . "[provider mycorp]\n$generic"
      . "token_url = http://127.0.0.1:$fake_port/token\n"
      . "userinfo_url = http://127.0.0.1:$fake_port/userinfo\n"
      . "[provider revfail]\n$generic"
      . "token_url = http://127.0.0.1:$fake_port/token\n"
      . "userinfo_url = http://127.0.0.1:$fake_port/userinfo\n"
      . "revoke_url = http://127.0.0.1:$refused/revoke\n");
my $gdev = $g->developer('gen');
$g->start;

# Start a login at `resource` and call back as the provider would, with
# a code: (the answer, seconds it took, the reserved user id).
sub call_back {
    my ($resource) = @_;
    my $x = $g->authenticate_user($gdev, $resource,
        { auth_failure_redirect_url => 'https://app.example/fail',
          auth_success_redirect_url => 'https://app.example/ok' });
    die "authenticateUser $resource: $x->{status} $x->{body}"
      if $x->{status} != 200;
    my $s = $g->fetch(GET => $x->{json}{auth_url});
    die "start $resource: $s->{status}" if $s->{status} != 302;
    my $st = $s->{query}{state};
    my $section = lc $resource;
    my $t = time;
    my $cb = $g->fetch(GET => "/callback/$section?code=x&state=$st",
        timeout => 20);
    return ($cb, time - $t, $x->{json}{user_id});
}

my ($cb, $took) = call_back('REFUSED');
is($cb->{status}, 302, 'token endpoint refusing connections: 302');
is($cb->{query}{reason}, 'token_exchange_failed',
    '... reason=token_exchange_failed');
ok($took < 5, sprintf('... within a few seconds (%.2f s)', $took));

($cb, $took) = call_back('SILENT');
is($cb->{query}{reason}, 'token_exchange_failed',
    'token endpoint never answering: reason=token_exchange_failed');
ok($took >= 0.9 && $took < 5,
    sprintf('... after about token_timeout_seconds = 1 (%.2f s)', $took));

($cb, $took) = call_back('NOPROFILE');
is($cb->{query}{reason}, 'profile_failed',
    'userinfo endpoint refusing connections: reason=profile_failed');
($cb) = call_back('BADPROFILE');
is($cb->{query}{reason}, 'profile_failed',
    'userinfo endpoint answering 500: reason=profile_failed');
($cb) = call_back('BADTOKEN');
is($cb->{query}{reason}, 'token_exchange_failed',
    'token endpoint answering 500: reason=token_exchange_failed');
my $gev = $g->events('--type', 'auth') // [];
is(scalar(grep { ($_->{body}{status} // '') eq 'error' } @$gev), 5,
    'an auth error event for each failure');
is($g->sql("select count(*) from users"), 0, 'no user from any of them');

my $uidg;
($cb, $took, $uidg) = call_back('MYCORP');
is($cb->{status}, 302, 'a working generic provider: 302');
like($cb->{location}, qr{^https://app\.example/ok\?}, '... to success');
is($cb->{query}{resource}, 'MYCORP', '... resource MYCORP');
is($g->sql("select provider || '|' || provider_user_id from users"
      . " where id = '$uidg'"), 'MYCORP|fake-account-1',
    '... the account id from the userinfo field');

# deauthentication is best effort at the provider
sub deauth_revoke {
    my ($id) = @_;
    my $x = $g->fetch(DELETE => "/v2/auth/deauthenticateUser?user_id=$id",
        headers => FerryTest::auth_headers($gdev));
    my ($e) = grep { $_->{user_id} eq $id } @{ $g->events('--type', 'deauth') };
    return ($x->{status}, $e ? $e->{body}{ferry}{provider_revoke} : undef);
}
my @d = deauth_revoke($uidg);
is_deeply(\@d, [ 200, 'not_supported' ],
    'deauth at a provider without a revoke endpoint: not_supported');
($cb, $took, $uidg) = call_back('REVFAIL');
is($cb->{query}{resource}, 'REVFAIL', 'a provider whose revoke fails');
$took = time;
@d = deauth_revoke($uidg);
is_deeply(\@d, [ 200, 'failed' ],
    '... deauth still succeeds, the event says the revoke failed');
ok(time - $took < 5, '... without waiting long');
is($g->sql("select count(*) from tokens where user_id = '$uidg'"), 0,
    '... and the tokens are deleted');
is($g->request(GET => '/healthz')->{status}, 200, 'still serving');
$g->stop;

kill 'TERM', $fake_pid;
waitpid($fake_pid, 0);
close($silent);

done_testing;

# The users and integrations API over HTTP: userInfo, subscriptions,
# bulkUserInfo, PATCH /users, deauthenticateUser, the integrations
# lists, one developer never reaching another's users, and the
# operator's `users list` and `events list`.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use POSIX ();
use Test::More;

my $TIME = qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/;
my @USER_KEYS = sort qw(user_id provider reference_id scopes active
  created_at last_webhook_update);
my @DETAIL_KEYS = sort(@USER_KEYS, qw(last_polled_at most_recent_data_at));

my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[provider oura]\nclient_id = cid\nclient_secret = cs\n"
      . "[provider withings]\nenabled = false\nclient_id = w\n");
my $dev = $f->developer('acme');
my $other = $f->developer('other');
$f->start;
my $base = $f->base;

sub api {
    my ($method, $path, %o) = @_;
    my $d = delete $o{dev} // $dev;
    return $f->fetch($method => $path, headers => FerryTest::auth_headers($d),
        %o);
}

sub connect_user {
    my ($username, $ref, $d) = @_;
    my $c = $f->connect_sandbox($d // $dev, username => $username,
        body => { defined $ref ? (reference_id => $ref) : () });
    die "connect $username: $c->{final}{status}"
      if $c->{final}{status} != 200;
    return $c->{user_id};
}

my $u1 = connect_user('alice', 'ref-a');
my $u2 = connect_user('bob', 'ref-b');
my $u3 = connect_user('carol', undef);
my $ou = connect_user('olga', 'ref-a', $other);
my @mine = ($u1, $u2, $u3);

# ---- userInfo ----

my $r = api(GET => "/v2/userInfo?user_id=$u1");
is($r->{status}, 200, 'userInfo by user_id: 200');
is_deeply([ sort keys %{ $r->{json} } ],
    [qw(is_authenticated status user)],
    'answer: exactly user, status, is_authenticated');
is($r->{json}{status}, 'success', 'status success');
is($r->{json}{is_authenticated}, JSON::PP::true, 'is_authenticated true');
my $u = $r->{json}{user};
is_deeply([ sort keys %$u ], \@DETAIL_KEYS,
    'user: the TerraUser keys with last_polled_at and most_recent_data_at');
is($u->{user_id}, $u1, 'user_id');
is($u->{provider}, 'SANDBOX', 'provider');
is($u->{reference_id}, 'ref-a', 'reference_id');
is($u->{active}, JSON::PP::true, 'active');
like($u->{created_at}, $TIME, 'created_at with microseconds and offset');
ok(!defined $u->{last_polled_at}, 'last_polled_at null (never polled)');
ok(!defined $u->{most_recent_data_at}, 'most_recent_data_at null');
ok(!defined $u->{last_webhook_update}, 'last_webhook_update null');
ok(defined $u->{scopes}, 'scopes set');

$r = api(GET => '/v2/userInfo?reference_id=ref-a');
is($r->{status}, 200, 'userInfo by reference_id: 200');
is(ref $r->{json}, 'ARRAY', '... a bare array');
is_deeply([ map { $_->{user_id} } @{ $r->{json} } ], [$u1],
    '... of this developer\'s users with that reference_id only');
is_deeply([ sort keys %{ $r->{json}[0] } ], \@USER_KEYS,
    '... each a TerraUser');
$r = api(GET => '/v2/userInfo?reference_id=nobody');
is($r->{status}, 200, 'unknown reference_id: 200');
is_deeply($r->{json}, [], '... an empty array');
is($r->{body}, '[]', '... written []');
$r = api(GET => "/v2/userInfo?user_id=$u2&reference_id=ref-a");
is($r->{json}{user}{user_id}, $u2, 'both given: user_id wins');

FerryTest::is_error(api(GET => '/v2/userInfo'), 400,
    qr/user_id or reference_id/, 'neither: 400 naming both');
FerryTest::is_error(api(GET => '/v2/userInfo?user_id=&reference_id='), 400,
    qr/user_id or reference_id/, 'both empty: 400');
FerryTest::is_error(api(GET => '/v2/userInfo?user_id=nope'), 404,
    qr/^user_id: no user/, 'unknown user_id: 404');
FerryTest::is_error(api(GET => '/v2/userInfo?user_id=' . ('u' x 500)), 404,
    qr/^user_id: no user/, 'over-long user_id: 404');
FerryTest::is_error($f->fetch(GET => "/v2/userInfo?user_id=$u1"), 401,
    undef, 'userInfo without credentials: 401');

# ---- subscriptions ----

$r = api(GET => '/v2/subscriptions');
is($r->{status}, 200, 'subscriptions: 200');
is_deeply([ keys %{ $r->{json} } ], ['users'], 'without page: {users}');
is_deeply([ map { $_->{user_id} } @{ $r->{json}{users} } ], \@mine,
    '... every user of the developer, oldest first');
is_deeply([ sort keys %{ $r->{json}{users}[0] } ], \@USER_KEYS,
    '... each a TerraUser');
$r = api(GET => '/v2/subscriptions?per_page=2');
is(scalar @{ $r->{json}{users} }, 3, 'per_page without page: no paging');

my @seen;
for my $p (0 .. 2) {
    $r = api(GET => "/v2/subscriptions?page=$p&per_page=2");
    is($r->{status}, 200, "page $p: 200");
    is_deeply([ keys %{ $r->{json} } ], ['data'], "page $p: {data}");
    my $d = $r->{json}{data};
    is_deeply([ sort keys %$d ], [qw(max_page next results)],
        "page $p: data has next, max_page, results");
    is($d->{max_page}, 1, "page $p: max_page 1 (3 users, 2 a page)");
    is($d->{next}, $p == 0 ? 1 : undef, "page $p: next");
    is(scalar @{ $d->{results} }, [ 2, 1, 0 ]->[$p], "page $p: results");
    push @seen, map { $_->{user_id} } @{ $d->{results} };
}
is_deeply(\@seen, \@mine, 'the pages together: every user once, in order');
$r = api(GET => '/v2/subscriptions?page=0');
is($r->{json}{data}{max_page}, 0, 'page without per_page: 500 a page');
ok(!defined $r->{json}{data}{next}, '... no next page');
is(scalar @{ $r->{json}{data}{results} }, 3, '... all three');

for my $q ('page=-1', 'page=x', 'page=1.5', 'page=', 'page=0&per_page=0',
    'page=0&per_page=501', 'page=0&per_page=abc',
    'page=99999999999999999999')
{
    FerryTest::is_error(api(GET => "/v2/subscriptions?$q"), 400,
        qr/^(page|per_page): /, "subscriptions?$q: 400 naming the field");
}

# ---- bulkUserInfo ----

$r = api(POST => '/v2/bulkUserInfo', body => qq(["$u2","$u1"]));
is($r->{status}, 200, 'bulkUserInfo: 200');
is_deeply([ map { $_->{user_id} } @{ $r->{json} } ], [ $u2, $u1 ],
    '... the users asked for, in the order asked');
is_deeply([ sort keys %{ $r->{json}[0] } ], \@USER_KEYS,
    '... each a TerraUser');
$r = api(POST => '/v2/bulkUserInfo', body => '[]');
is_deeply($r->{json}, [], 'an empty list: []');
FerryTest::is_error(api(POST => '/v2/bulkUserInfo',
        body => qq(["$u1","no-such-user"])), 404, qr/no user 'no-such-user'/,
    'an unknown id: 404 naming it');
for my $c ([ 'an object', '{"ids":[]}' ], [ 'a string', '"x"' ],
    [ 'not JSON', '[' ], [ 'empty', '' ], [ 'a number in it', "[\"$u1\",1]" ])
{
    FerryTest::is_error(api(POST => '/v2/bulkUserInfo', body => $c->[1]),
        400, qr/^body/, "bulkUserInfo with $c->[0]: 400");
}

# ---- PATCH /v2/users/{id} ----

$r = api(PATCH => "/v2/users/$u2", body => '{"reference_id":"ref-b2"}');
is($r->{status}, 200, 'PATCH reference_id: 200');
is_deeply([ sort keys %{ $r->{json} } ], [qw(status user)],
    'answer: user and status');
is($r->{json}{user}{reference_id}, 'ref-b2', '... the new reference_id');
is(api(GET => "/v2/userInfo?user_id=$u2")->{json}{user}{reference_id},
    'ref-b2', 'userInfo shows it');
is_deeply([ map { $_->{user_id} }
        @{ api(GET => '/v2/userInfo?reference_id=ref-b2')->{json} } ],
    [$u2], 'lookup by the new reference_id finds it');

$r = api(PATCH => "/v2/users/$u2", body => '{"active":false}');
is($r->{status}, 200, 'PATCH active false: 200');
is($r->{json}{user}{active}, JSON::PP::false, '... inactive');
is($r->{json}{user}{reference_id}, 'ref-b2', '... reference_id unchanged');
$r = api(GET => "/v2/userInfo?user_id=$u2");
is($r->{json}{user}{active}, JSON::PP::false, 'userInfo shows active false');
is(scalar @{ api(GET => '/v2/subscriptions')->{json}{users} }, 3,
    'an inactive user is still listed');
$r = api(PATCH => "/v2/users/$u2",
    body => '{"active":true,"reference_id":null}');
is($r->{json}{user}{active}, JSON::PP::true, 'PATCH both: active again');
ok(!defined $r->{json}{user}{reference_id}, '... and reference_id null');
is($f->sql("select reference_id is null from users where id = '$u2'"), 1,
    '... stored as NULL');
$r = api(PATCH => "/v2/users/$u2", body => '{}');
is($r->{status}, 200, 'PATCH {}: 200, nothing changed');
$r = api(PATCH => "/v2/users/$u2", body => '{"reference_id":"ref-b"}');
is($r->{json}{user}{reference_id}, 'ref-b', 'reference_id set back');

my @bad_patch = (
    [ 'reference_id a number', '{"reference_id":5}', qr/^reference_id: / ],
    [ 'reference_id an object', '{"reference_id":{}}', qr/^reference_id: / ],
    [ 'active a string', '{"active":"no"}', qr/^active: / ],
    [ 'active a number', '{"active":0}', qr/^active: / ],
    [ 'active null', '{"active":null}', qr/^active: / ],
    [ 'a JSON array', '[]', qr/^body: / ],
    [ 'not JSON', '{"active":', qr/^body: / ],
    [ 'duplicate keys', '{"active":true,"active":false}', qr/^body: / ],
    [ 'an over-long reference_id',
        '{"reference_id":"' . ('r' x 300) . '"}', qr/^reference_id: / ],
    [ 'NUL in reference_id', '{"reference_id":"a\u0000b"}',
        qr/^reference_id: / ],
    [ 'invalid UTF-8 in reference_id', "{\"reference_id\":\"\xff\xfe\"}",
        qr/^body: / ],
);
for my $c (@bad_patch) {
    my ($name, $body, $re) = @$c;
    FerryTest::is_error(api(PATCH => "/v2/users/$u2", body => $body), 400,
        $re, "PATCH with $name: 400");
}
$r = api(GET => "/v2/userInfo?user_id=$u2");
is($r->{json}{user}{reference_id}, 'ref-b', 'the refused PATCHes changed '
      . 'nothing (reference_id)');
is($r->{json}{user}{active}, JSON::PP::true, '... (active)');
# generateWidgetSession refuses control characters in reference_id;
# a PATCH must not store one either
FerryTest::is_error(api(PATCH => "/v2/users/$u2",
        body => '{"reference_id":"a\nb"}'), 400,
    qr/^reference_id: .*control characters/,
    'PATCH with a control character in reference_id: 400');
api(PATCH => "/v2/users/$u2", body => '{"reference_id":"ref-b"}');
FerryTest::is_error(api(PATCH => '/v2/users/no-such-user',
        body => '{"active":false}'), 404, qr/^user_id: no user/,
    'PATCH an unknown user: 404');
FerryTest::is_error($f->fetch(PATCH => "/v2/users/$u2",
        body => '{"active":false}'), 401, undef,
    'PATCH without credentials: 401');

# ---- another developer sees none of it ----

my %oauth = (dev => $other);
for my $id (@mine) {
    FerryTest::is_error(api(GET => "/v2/userInfo?user_id=$id", %oauth), 404,
        qr/^user_id: no user/, "other developer: userInfo $id 404");
    FerryTest::is_error(api(PATCH => "/v2/users/$id", %oauth,
            body => '{"active":false,"reference_id":"stolen"}'), 404,
        qr/^user_id: no user/, "other developer: PATCH $id 404");
    FerryTest::is_error(api(DELETE =>
            "/v2/auth/deauthenticateUser?user_id=$id", %oauth), 404,
        qr/^user_id: no user/, "other developer: deauthenticate $id 404");
    FerryTest::is_error(api(POST => '/v2/bulkUserInfo', %oauth,
            body => qq(["$ou","$id"])), 404, qr/no user/,
        "other developer: bulkUserInfo with $id 404");
}
$r = api(GET => '/v2/subscriptions', %oauth);
is_deeply([ map { $_->{user_id} } @{ $r->{json}{users} } ], [$ou],
    'other developer: subscriptions lists only its own user');
$r = api(GET => '/v2/userInfo?reference_id=ref-a', %oauth);
is_deeply([ map { $_->{user_id} } @{ $r->{json} } ], [$ou],
    'other developer: the same reference_id finds only its own user');
$r = api(GET => "/v2/userInfo?user_id=$ou");
is($r->{status}, 404, 'and the other way round: 404');
$r = api(GET => '/v2/subscriptions');
is_deeply([ map { $_->{user_id} } @{ $r->{json}{users} } ], \@mine,
    'our users are all still there');
is_deeply([ map { [ $_->{active}, $_->{reference_id} ] }
        @{ $r->{json}{users} } ],
    [ [ JSON::PP::true, 'ref-a' ], [ JSON::PP::true, 'ref-b' ],
        [ JSON::PP::true, undef ] ],
    '... unchanged by the other developer\'s calls');

my $fresh = $f->developer('fresh');
$r = api(GET => '/v2/subscriptions', dev => $fresh);
is($r->{body}, '{"users":[]}', 'a developer without users: {"users":[]}');
$r = api(GET => '/v2/subscriptions?page=0&per_page=2', dev => $fresh);
is_deeply($r->{json}, { data => { next => undef, max_page => 0,
            results => [] } }, '... paged: an empty first page');

# ---- deauthenticateUser ----

my $n_deauth = scalar @{ $f->events('--type', 'deauth') };
is($f->sql("select count(*) from tokens where user_id = '$u3'"), 1,
    'the user to deauthenticate has its token row');
is($f->sql("select count(*) from sandbox_tokens where account = 'carol'"
      . " and revoked_at is null"), 2,
    '... and a live grant at the sandbox (access and refresh token)');
$r = api(DELETE => "/v2/auth/deauthenticateUser?user_id=$u3");
is($r->{status}, 200, 'deauthenticateUser: 200');
is_deeply($r->{json}, { status => 'success' }, '... {"status":"success"}');
my $evs = $f->events('--type', 'deauth', '--dev', $dev->{dev_id});
is(scalar @$evs, $n_deauth + 1, 'one deauth event');
my $ev = $evs->[-1];
is($ev->{user_id}, $u3, '... naming the user');
is($ev->{body}{type}, 'deauth', '... type deauth');
is($ev->{body}{status}, 'success', '... status success');
is($ev->{body}{user}{user_id}, $u3, '... user.user_id');
is($ev->{body}{user}{active}, JSON::PP::false, '... user.active false');
ok(defined $ev->{body}{message}, '... a message');
is($ev->{body}{ferry}{provider_revoke}, 'revoked',
    '... ferry.provider_revoke "revoked" (the sandbox revoked the grant)');
is($ev->{body}{ferry}{event_id}, $ev->{id}, '... ferry.event_id');
is_deeply([ sort keys %{ $ev->{body}{user} } ], \@USER_KEYS,
    '... user is a TerraUser');
is($f->sql("select count(*) from tokens where user_id = '$u3'"), 0,
    'the token row is deleted');
is($f->sql("select state || '|' || active from users where id = '$u3'"),
    'deauthorized|0', 'the user row is kept, deauthorized');
is($f->sql("select count(*) from sandbox_tokens where account = 'carol'"
      . " and revoked_at is null"), 0,
    'the sandbox holds no live token for the account any more');

FerryTest::is_error(api(GET => "/v2/userInfo?user_id=$u3"), 404,
    qr/^user_id: no user/, 'then userInfo: 404');
FerryTest::is_error(api(DELETE => "/v2/auth/deauthenticateUser?user_id=$u3"),
    404, qr/^user_id: no user/, 'deauthenticate again: 404');
is(scalar @{ $f->events('--type', 'deauth') }, $n_deauth + 1,
    '... and no second event');
FerryTest::is_error(api(PATCH => "/v2/users/$u3", body => '{"active":true}'),
    404, qr/^user_id: no user/, 'PATCH a deauthenticated user: 404');
FerryTest::is_error(api(POST => '/v2/bulkUserInfo', body => qq(["$u3"])),
    404, qr/no user/, 'bulkUserInfo with it: 404');
is_deeply([ map { $_->{user_id} }
        @{ api(GET => '/v2/subscriptions')->{json}{users} } ], [ $u1, $u2 ],
    'subscriptions no longer lists it');
FerryTest::is_error(api(DELETE => '/v2/auth/deauthenticateUser'), 400,
    qr/^user_id: required/, 'deauthenticate without user_id: 400');
FerryTest::is_error(api(DELETE => '/v2/auth/deauthenticateUser?user_id='),
    400, qr/^user_id: required/, 'deauthenticate with user_id=: 400');
FerryTest::is_error(api(DELETE => '/v2/auth/deauthenticateUser?user_id=nope'),
    404, qr/^user_id: no user/, 'deauthenticate an unknown user: 404');
FerryTest::is_error($f->fetch(DELETE =>
        "/v2/auth/deauthenticateUser?user_id=$u1"), 401, undef,
    'deauthenticate without credentials: 401');
is(api(GET => "/v2/userInfo?user_id=$u1")->{status}, 200,
    '... which changed nothing');

# two deauthentications of one user at once: one wins, one event
my $u4 = connect_user('dave', 'ref-d');
my @fh;
for (1 .. 2) {
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if ($pid == 0) {
        print api(DELETE => "/v2/auth/deauthenticateUser?user_id=$u4")
          ->{status};
        POSIX::_exit(0);
    }
    push @fh, $fh;
}
my @st = sort map { local $/; my $l = readline($_); close($_); $l } @fh;
is_deeply(\@st, [ 200, 404 ], 'two deauthentications at once: 200 and 404');
is(scalar(grep { $_->{user_id} eq $u4 }
        @{ $f->events('--type', 'deauth') }), 1, '... one deauth event');
push @mine, $u4;

# ---- integrations (no credentials needed) ----

$r = $f->fetch(GET => '/v2/integrations');
is($r->{status}, 200, 'integrations without credentials: 200');
is_deeply([ sort keys %{ $r->{json} } ], [qw(providers sdk_resource status)],
    '... providers, sdk_resource, status');
is_deeply($r->{json}{providers}, [qw(SANDBOX OURA)],
    '... the enabled providers, in configuration order');
is_deeply($r->{json}{sdk_resource}, [], '... no SDK-only resource');
is($r->{json}{status}, 'success', '... status success');
is(api(GET => '/v2/integrations')->{status}, 200, '... and with them');

$r = $f->fetch(GET => '/v2/integrations/detailed');
is($r->{status}, 200, 'integrations/detailed: 200');
is_deeply([ sort keys %{ $r->{json} } ], [qw(providers status)],
    '... providers and status');
my @det = @{ $r->{json}{providers} };
is_deeply([ map { $_->{provider} } @det ], [qw(SANDBOX OURA)],
    '... the enabled providers');
for my $p (@det) {
    is_deeply([ sort keys %$p ],
        [qw(enabled icon name provider setup types)],
        "$p->{provider}: provider, name, icon, setup, enabled, types");
    is($p->{enabled}, JSON::PP::true, "$p->{provider}: enabled");
    ok(length $p->{name}, "$p->{provider}: a name");
    is_deeply([ sort keys %{ $p->{types} } ],
        [qw(activity body daily menstruation nutrition sleep)],
        "$p->{provider}: the six data types");
    ok(!grep({ !JSON::PP::is_bool($_) } values %{ $p->{types} }),
        "$p->{provider}: types are booleans");
    like($p->{icon}, qr{^\Q$base\E/widget/icons/$p->{provider}\.svg$},
        "$p->{provider}: an icon URL on this server");
    my $icon = $f->fetch(GET => $p->{icon});
    is($icon->{status}, 200, "$p->{provider}: the icon is served");
    like($icon->{headers}{'content-type'}, qr{^image/svg\+xml},
        "$p->{provider}: as SVG");
}
is($det[0]{types}{sleep}, JSON::PP::true, 'SANDBOX has sleep data');
is($det[0]{types}{nutrition}, JSON::PP::false, '... and no nutrition');

# ---- the operator's lists ----

my $list = $f->users;
is(scalar @$list, 5, 'users list: every user of every developer, '
      . 'deauthorized ones too');
my ($row) = grep { $_->{user_id} eq $u3 } @$list;
is($row->{state}, 'deauthorized', '... the deauthorized one says so');
is($row->{dev_id}, $dev->{dev_id}, '... with its developer');
like($row->{provider_user_id}, qr/^sbx_[0-9a-f]{24}$/,
    '... and its provider account');
ok(exists $row->{last_polled_at}, '... and the detail times');
$list = $f->users('--dev', $dev->{dev_id});
is_deeply([ map { $_->{user_id} } @$list ], \@mine,
    'users list --dev: that developer\'s users, oldest first');
$list = $f->users('--dev', $other->{dev_id});
is_deeply([ map { $_->{user_id} } @$list ], [$ou],
    '... and the other developer\'s');
is_deeply($f->users('--dev', 'dev_nobody'), [], '... none for nobody');
$list = $f->users('--limit', 2);
is(scalar @$list, 2, 'users list --limit 2');
my ($code) = $f->cli('users', 'list', '--limit', '0');
is($code, 2, 'users list --limit 0: usage error');

$evs = $f->events('--type', 'auth', '--dev', $dev->{dev_id});
is(scalar @$evs, 4, 'events list --type auth --dev: one per connection');
ok(!grep({ $_->{type} ne 'auth' || $_->{dev_id} ne $dev->{dev_id} } @$evs),
    '... only auth events of that developer');
is_deeply([ map { $_->{body}{user}{user_id} } @$evs ], \@mine,
    '... in creation order');
my @seq = map { $_->{seq} } @$evs;
is_deeply(\@seq, [ sort { $a <=> $b } @seq ], '... seq ascending');
for my $e (@$evs) {
    is_deeply([ sort keys %$e ],
        [qw(body created_at dev_id id reference seq type user_id)],
        "event $e->{seq}: id, seq, type, dev_id, user_id, reference, "
          . "created_at, body");
    is($e->{body}{ferry}{event_id}, $e->{id},
        "event $e->{seq}: body.ferry.event_id is its id");
    like($e->{created_at}, $TIME, "event $e->{seq}: created_at");
}
$evs = $f->events('--type', 'auth', '--dev', $other->{dev_id});
is_deeply([ map { $_->{user_id} } @$evs ], [$ou],
    'the other developer\'s auth events are its own');
# The backfill may already have announced data for this user, so only
# the account events are compared exactly.
$evs = $f->events('--user', $u1);
ok(@$evs && !grep({ $_->{user_id} ne $u1 } @$evs),
    'events list --user: only that user\'s events');
is_deeply([ map { $_->{type} } grep { $_->{type} eq 'auth' } @$evs ],
    ['auth'], '... its one auth event among them');
is($evs->[0]{type}, 'auth', '... first, as it came first');
$evs = $f->events('--limit', 1);
is(scalar @$evs, 1, 'events list --limit 1');
is_deeply($f->events('--type', 'no_such_type'), [], 'an unknown type: []');

ok($f->alive, 'the server is still running');
$f->stop;
done_testing;

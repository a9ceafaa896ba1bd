# The PostgreSQL destination against a real server (FerryPg): the
# tables made on first use, ferry_users following auth, user_reauth and
# deauth, one ferry_payloads row per event with the body as jsonb, a
# replay that changes nothing, retries while the server is down and the
# delivery once it is back, the password never shown, and the URLs that
# are refused (a private host unless allowed, sockets, other hosts,
# files on ferry's machine).
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryPg;
use FerryTest;
use JSON::PP;
use Test::More;
use Time::HiRes qw(sleep time);

plan skip_all => 'no PostgreSQL server installed' unless FerryPg::available();

# Bytes in, bytes out: stored bodies and jsonb text compare as data.
my $J = JSON::PP->new->utf8->canonical->allow_nonref;
my $PASSWORD = 'pg-s3cret-Qz7';

# the role must give its password, so the stored one is really used
my $pg = FerryPg->new(password => $PASSWORD);
my $url = $pg->url;
my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[security]\nallow_private_destinations = true\n"
      . "[deliver]\nretry_base_seconds = 1\nretry_max_seconds = 2\n");
my $dev = $f->developer('acme');

sub wait_for {
    my ($cond, $secs) = @_;
    my $deadline = time + ($secs // 20);
    while (time < $deadline) {
        my $v = $cond->();
        return $v if $v;
        sleep 0.1;
    }
    return 0;
}

# The state of the delivery of event `id` (one destination here).
sub delivery_state {
    my ($id) = @_;
    return $f->sql("select state from deliveries where event_id = '$id'");
}

sub delivered {
    my (@ids) = @_;
    return wait_for(sub {
        !grep { delivery_state($_) ne 'delivered' } @ids;
    });
}

# `ferry events show ID --json`, decoded.
sub show {
    my ($id) = @_;
    my ($code, $out) = $f->cli('events', 'show', $id, '--json');
    return $code == 0 ? $J->decode($out) : undef;
}

sub uuid {
    my @b = map { int(rand(256)) } 1 .. 16;
    $b[6] = ($b[6] & 0x0f) | 0x40;
    $b[8] = ($b[8] & 0x3f) | 0x80;
    my $h = join('', map { sprintf('%02x', $_) } @b);
    return join('-', unpack('A8 A4 A4 A4 A12', $h));
}

# An activity event for `user` (a TerraUser from an event body, or
# undef), recorded the way the store's trigger queues it.
sub insert_activity {
    my ($user, $start, $end) = @_;
    my $id = uuid();
    my $body = $J->encode({
        type    => 'activity',
        user    => $user,
        version => '2022-03-16',
        data    => [ {
            metadata => { start_time => $start, end_time => $end,
                name => "Caf\x{e9} run \x{2615}", type => 8 },
            distance_data => { summary => { distance_meters => 5012.25 } },
        } ],
        ferry   => { event_id => $id },
    });
    my $uid = defined $user ? "'$user->{user_id}'" : 'NULL';
    my $now = int(time * 1e6);
    my $sql_body = $body =~ s/'/''/gr;
    $f->sql("insert into events (id, dev_id, user_id, type, reference,"
          . " body, created_at) values ('$id', '$dev->{dev_id}', $uid,"
          . " 'activity', NULL, '$sql_body', $now)");
    return $id;
}

sub stored_body {
    my ($id) = @_;
    return $J->decode($f->sql("select body from events where id = '$id'"));
}

sub payload_rows {
    my ($id) = @_;
    return $pg->psql("SELECT count(*) FROM ferry_payloads"
          . " WHERE event_id = '$id'");
}

sub user_row {
    my ($uid) = @_;
    my @rows = $pg->psql("SELECT user_id, reference_id, provider, state,"
          . " scopes, extract(epoch FROM created_at) * 1000000"
          . " FROM ferry_users WHERE user_id = '$uid'");
    return $rows[0];
}

# ---- adding ----

my ($code, $out, $err) = $f->cli('destination', 'add', $dev->{dev_id},
    'postgres', $url, '--json');
is($code, 0, 'destination add postgres: exit 0') or diag($err);
my $dest = eval { $J->decode($out) } // {};
like($dest->{id} // '', qr/^[0-9a-f-]{36}$/, '... prints the id');

($code, $out) = $f->cli('destination', 'list', '--json');
my $list = eval { $J->decode($out) } // [];
is(scalar @$list, 1, 'one destination listed');
is($list->[0]{type}, 'postgres', '... of type postgres');
is($list->[0]{url}, $pg->url(password => '***'),
    '... its URL with the password as ***');
($code, $out) = $f->cli('destination', 'list');
unlike($out, qr/\Q$PASSWORD\E/, 'the text list does not show the password');

for my $bad (
    [ 'postgresql://ferry@%2Ftmp/ferry_dest', qr/socket/i, 'a Unix socket' ],
    [ 'postgresql://ferry@/ferry_dest?host=/tmp', qr/socket/i,
      'a socket in host=' ],
    [ 'postgresql://ferry@127.0.0.1,127.0.0.2/ferry_dest', qr/one host/,
      'two hosts' ],
    [ 'postgresql://ferry@127.0.0.1/ferry_dest?host=127.0.0.9',
      qr/host/, 'another host in the query' ],
    [ 'postgresql://ferry@127.0.0.1/ferry_dest?passfile=/etc/passwd',
      qr/passfile/, 'a file on ferry\'s machine' ],
    [ 'postgresql://ferry@127.0.0.1/ferry_dest?password=x',
      qr/password/, 'a password in the query, where it would show' ],
    [ 'postgresql://ferry@127.0.0.1:99999/ferry_dest', qr/port/,
      'a port out of range' ],
    [ 'mysql://ferry@127.0.0.1/ferry_dest', qr/postgresql:/,
      'another scheme' ],
  )
{
    my ($u, $why, $name) = @$bad;
    ($code, $out, $err) = $f->cli('destination', 'add', $dev->{dev_id},
        'postgres', $u);
    isnt($code, 0, "refused: $name");
    like($err, qr/url/, '... naming the url');
    like($err, $why, '... saying why') or diag($err);
}
($code, $out) = $f->cli('destination', 'list', '--json');
is(scalar @{ $J->decode($out) }, 1, 'nothing was added by those');

# ---- auth, user_reauth, deauth ----

$f->start;
my $c = $f->connect_sandbox($dev, username => 'alice',
    body => { reference_id => 'ref-a' });
is($c->{final}{status}, 200, 'alice connected');
my $alice = $c->{user_id};
my ($auth) = grep { $_->{type} eq 'auth' } @{ $f->events };
ok(delivered($auth->{id}), 'the auth event is delivered');

my %types = map { @$_ } $pg->psql("SELECT table_name || '.' || column_name,"
      . " data_type FROM information_schema.columns"
      . " WHERE table_name IN ('ferry_users', 'ferry_payloads')");
is_deeply(\%types, {
    'ferry_users.user_id'       => 'text',
    'ferry_users.reference_id'  => 'text',
    'ferry_users.provider'      => 'text',
    'ferry_users.state'         => 'text',
    'ferry_users.scopes'        => 'text',
    'ferry_users.created_at'    => 'timestamp with time zone',
    'ferry_users.updated_at'    => 'timestamp with time zone',
    'ferry_users.state_at'      => 'timestamp with time zone',
    'ferry_payloads.event_id'   => 'uuid',
    'ferry_payloads.user_id'    => 'text',
    'ferry_payloads.type'       => 'text',
    'ferry_payloads.start_time' => 'timestamp with time zone',
    'ferry_payloads.end_time'   => 'timestamp with time zone',
    'ferry_payloads.created_at' => 'timestamp with time zone',
    'ferry_payloads.payload'    => 'jsonb',
}, 'the tables were made with their columns');

my $u = $auth->{body}{user};
my $row = user_row($alice);
is($row->[3], 'active', 'ferry_users: alice is active after auth');
is($row->[1], 'ref-a', '... reference_id');
is($row->[2], 'SANDBOX', '... provider');
is($row->[4], $u->{scopes}, '... scopes as in the event');
my $created = $f->sql("select created_at from users where id = '$alice'");
is(sprintf('%.0f', $row->[5]), $created, '... created_at as the user\'s');

# bob twice with the same reference: the second login replaces the first
my $b1 = $f->connect_sandbox($dev, username => 'bob',
    body => { reference_id => 'ref-b' })->{user_id};
my $b2 = $f->connect_sandbox($dev, username => 'bob',
    body => { reference_id => 'ref-b' })->{user_id};
my ($reauth) = grep { $_->{type} eq 'user_reauth' } @{ $f->events };
SKIP: {
    skip 'no user_reauth event for a repeated login', 2 unless $reauth;
    ok(delivered($reauth->{id}), 'the user_reauth event is delivered');
    is_deeply([ map { user_row($_)->[3] } $b1, $b2 ],
        [ 'reauthorized', 'active' ],
        'ferry_users: the old user reauthorized, the new one active');
}

my $r = $f->fetch(DELETE => "/v2/auth/deauthenticateUser?user_id=$alice",
    headers => FerryTest::auth_headers($dev));
is($r->{status}, 200, 'alice deauthenticated');
my ($deauth) = grep { $_->{type} eq 'deauth' } @{ $f->events };
ok(delivered($deauth->{id}), 'the deauth event is delivered');
is(user_row($alice)->[3], 'deauthorized',
    'ferry_users: alice is deauthorized after deauth');

# an older lifecycle event that reaches the database later (queued with
# another user's events, or retried) does not undo a newer one
{
    my $id = uuid();
    my $at = $f->sql("select created_at from events where id ="
          . " '$deauth->{id}'") - 1000000;
    my $user = $J->decode($f->sql("select body from events where id ="
          . " '$deauth->{id}'"))->{user};
    my $body = $J->encode({ type => 'connection_error', user => $user,
        version => '2022-03-16', ferry => { event_id => $id } }) =~ s/'/''/gr;
    $f->sql("insert into events (id, dev_id, user_id, type, reference,"
          . " body, created_at) values ('$id', '$dev->{dev_id}', '$alice',"
          . " 'connection_error', NULL, '$body', $at)");
    ok(delivered($id), 'a connection_error from before the deauth arrives');
    is(user_row($alice)->[3], 'deauthorized',
        '... and ferry_users keeps the newer state');
    is($pg->psql("SELECT (extract(epoch FROM state_at) * 1000000)::bigint"
          . " FROM ferry_users WHERE user_id = '$alice'"),
        $at + 1000000, '... state_at the deauth event\'s time');
}

# a users table made before state_at existed, whose rows were written
# later than the events now arriving: it gains the column and takes them
{
    $pg->psql('ALTER TABLE ferry_users DROP COLUMN state_at');
    $pg->psql("UPDATE ferry_users SET updated_at = now() + interval '1 day'"
          . " WHERE user_id = '$alice'");
    $f->stop;
    $f->start;
    my $id = uuid();
    my $user = $J->decode($f->sql("select body from events where id ="
          . " '$deauth->{id}'"))->{user};
    my $body = $J->encode({ type => 'connection_error', user => $user,
        version => '2022-03-16', ferry => { event_id => $id } }) =~ s/'/''/gr;
    my $now = int(time * 1e6);
    $f->sql("insert into events (id, dev_id, user_id, type, reference,"
          . " body, created_at) values ('$id', '$dev->{dev_id}', '$alice',"
          . " 'connection_error', NULL, '$body', $now)");
    ok(delivered($id), 'after a restart, an event for an older users table');
    is(user_row($alice)->[3], 'error', '... moves the row written before');
    is($pg->psql("SELECT count(*) FROM information_schema.columns WHERE"
          . " table_name = 'ferry_users' AND column_name = 'state_at'"), 1,
        '... and the table has state_at again');
}

# ---- data events ----

my @data = (
    insert_activity($u, '2026-03-01T07:30:00.000000+01:00',
        '2026-03-01T08:15:30.250000+01:00'),
    insert_activity($u, '2026-03-02T06:00:00+00:00',
        '2026-03-02T06:45:00+00:00'),
    insert_activity(undef, 'not a time', '2026-03-03T06:45:00Z'),
);
ok(delivered(@data), 'the data events are delivered');

# the SANDBOX user's backfill makes data events too: wait until every
# event there is has reached the database
my @events;
for (1 .. 200) {
    @events = @{ $f->events('--limit', '100000') // [] };
    last if $pg->psql('SELECT count(*) FROM ferry_payloads') == @events;
    select(undef, undef, undef, 0.1);
}
is($pg->psql('SELECT count(*) FROM ferry_payloads'), scalar @events,
    'ferry_payloads: one row per event');
is(scalar(grep { payload_rows($_->{id}) == 1 } @events), scalar @events,
    '... each event exactly once');
my $same = 0;
for my $ev (@events) {
    my $p = $pg->psql("SELECT payload::text FROM ferry_payloads"
          . " WHERE event_id = '$ev->{id}'");
    $same++ if eq_deeply_json($J->decode($p), stored_body($ev->{id}));
}
is($same, scalar @events, '... the payload equal to the stored body');

sub eq_deeply_json {
    my ($x, $y) = @_;
    return $J->encode($x) eq $J->encode($y);
}

my @d = $pg->psql("SELECT user_id, type,"
      . " extract(epoch FROM start_time), extract(epoch FROM end_time),"
      . " (extract(epoch FROM created_at) * 1000000)::bigint"
      . " FROM ferry_payloads WHERE event_id = '$data[0]'");
is($d[0][0], $alice, 'a data row: user_id');
is($d[0][1], 'activity', '... type');
is($d[0][2] + 0, 1772346600, '... start_time from data[0].metadata');
is($d[0][3] + 0, 1772349330.25, '... end_time, fraction kept');
is($d[0][4], $f->sql("select created_at from events where id = '$data[0]'"),
    '... created_at as the event\'s');
@d = $pg->psql("SELECT user_id, start_time, extract(epoch FROM end_time)"
      . " FROM ferry_payloads WHERE event_id = '$data[2]'");
ok(!defined $d[0][0], 'an event without a user: user_id NULL');
ok(!defined $d[0][1], '... a start_time that is not a time: NULL');
is($d[0][2] + 0, 1772520300, '... the end_time still read');
@d = $pg->psql("SELECT start_time, end_time FROM ferry_payloads"
      . " WHERE event_id = '$deauth->{id}'");
ok(!defined $d[0][0] && !defined $d[0][1],
    'a lifecycle event: no start or end time');

# ---- replay ----

# every event there is delivered first (the backfills' too)
for (1 .. 200) {
    my $evs = $f->events('--limit', '100000') // [];
    last if $pg->psql('SELECT count(*) FROM ferry_payloads') == @$evs;
    select(undef, undef, undef, 0.1);
}
my $cut = "created_at <= to_timestamp(" . time() . ")";
my $n = $pg->psql("SELECT count(*) FROM ferry_payloads WHERE $cut");
my $state = user_row($alice)->[3];
for my $ev ($data[0], $auth->{id}) {
    ($code, $out, $err) = $f->cli('events', 'replay', $ev);
    is($code, 0, "events replay $ev: exit 0") or diag($err);
    ok(wait_for(sub {
        my $s = show($ev);
        $s && $s->{deliveries}[0]{attempts} == 2
          && $s->{deliveries}[0]{state} eq 'delivered';
    }), '... delivered a second time');
    is(payload_rows($ev), 1, '... still one row for it');
}
is($pg->psql("SELECT count(*) FROM ferry_payloads WHERE $cut"), $n,
    'no row was added by the replays');
is(user_row($alice)->[3], $state,
    "the replayed auth event leaves alice as she was ($state)");

# ---- the server down, then back ----

$pg->stop;
my $late = insert_activity($u, '2026-03-04T06:00:00Z', '2026-03-04T07:00:00Z');
my $failed = wait_for(sub {
    my $s = show($late);
    return 0 unless $s && @{ $s->{deliveries} };
    my @f = grep { defined $_->{error} } @{ $s->{deliveries}[0]{attempt_log} };
    return @f >= 2 ? \@f : 0;
});
ok($failed, 'with the server stopped, failed attempts are listed');
my @errors = map { $_->{error} } @{ $failed || [] };
is(scalar(grep { /^postgres: / } @errors), scalar @errors,
    '... each with the driver\'s error') or diag(explain \@errors);
ok(!grep({ /\Q$PASSWORD\E/ } @errors), '... none holding the password');
is(delivery_state($late), 'pending', '... and the delivery is retried');

$pg->start;
ok(delivered($late), 'with the server back, the event is delivered');
is(payload_rows($late), 1, '... and its row is there');
my $s = show($late);
is($s->{deliveries}[0]{attempt_log}[-1]{error}, undef,
    '... the last attempt without an error');

# ---- the HTTP API ----

my $other = $f->developer('other');
$r = $f->fetch(POST => '/v2/destinations',
    headers => FerryTest::auth_headers($other),
    body => $J->encode({ type => 'postgres', url => $url }));
is($r->{status}, 200, 'POST /v2/destinations postgres: 200')
  or diag($r->{body});
is($r->{json}{destination}{url}, $pg->url(password => '***'),
    '... the URL shown with the password as ***');
unlike($r->{body}, qr/\Q$PASSWORD\E/, '... the password nowhere in it');
$r = $f->fetch(DELETE => "/v2/destinations/$r->{json}{destination}{id}",
    headers => FerryTest::auth_headers($other));
is($r->{status}, 200, '... and removed again');

# ---- stopping ferry while an event waits for the server ----

$pg->stop;
my $held = insert_activity($u, '2026-03-05T06:00:00Z', '2026-03-05T07:00:00Z');
ok(wait_for(sub { ($f->sql("select attempts from deliveries"
      . " where event_id = '$held'") || 0) >= 1 }),
    'an event fails while the server is down');
unlike($f->log_text, qr/\Q$PASSWORD\E/, 'the password is not in the log');
$f->stop;
is(delivery_state($held), 'pending', '... and is still pending after a stop');
$pg->start;
$f->start;
ok(delivered($held), 'after a restart of both it is delivered');
is(payload_rows($held), 1, '... once');
$f->stop;
($code, $out) = $f->cli('events', 'show', $late);
unlike($out, qr/\Q$PASSWORD\E/, 'the password is not in events show');

# a state_at column of the developer's own, of another type, is refused
# by name rather than written wrong
$pg->psql('ALTER TABLE ferry_users ALTER COLUMN state_at TYPE date');
$f->start;
my $odd = insert_activity($u, '2026-03-06T06:00:00Z', '2026-03-06T07:00:00Z');
ok(wait_for(sub { ($f->sql("select last_error from deliveries"
      . " where event_id = '$odd'") // '') =~ /state_at/ }),
    'a ferry_users.state_at that is a date: the attempt fails')
  or diag($f->sql("select last_error from deliveries where event_id = '$odd'"));
like($f->sql("select last_error from deliveries where event_id = '$odd'"),
    qr/ferry_users\.state_at is date, not timestamp with time zone/,
    '... saying which column and what it should be');
$f->stop;

# ---- private hosts refused unless allowed ----

my $g = FerryTest->new(config => "[provider sandbox]\n");
my $gdev = $g->developer('acme');
($code, $out, $err) = $g->cli('destination', 'add', $gdev->{dev_id},
    'postgres', $pg->url, '--json');
isnt($code, 0, 'without allow_private_destinations: 127.0.0.1 refused');
like($err, qr/url/, '... naming the url');
like($err, qr/private|loopback/, '... as a private address') or diag($err);
unlike($err, qr/\Q$PASSWORD\E/, '... without showing the password');
($code, $out) = $g->cli('destination', 'list', '--json');
is_deeply($J->decode($out), [], '... and nothing added');

$pg->stop;
done_testing;

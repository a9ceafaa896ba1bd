# 95-data.t - the data endpoints (/v2/activity, /sleep, /daily, /body,
# /nutrition, /menstruation, /athlete, /plannedWorkout): validation
# naming the field, scoping to the developer, the no-destination and
# data-sent-to-webhook answers, the rate limits and their headers, types
# a provider lacks, and to_webhook=false answering the records in
# Terra's shape, with and without samples.
#
# The destination is a receiver this test starts on 127.0.0.1; it
# answers 200 to everything.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use IO::Socket::INET;
use Test::More;
use POSIX qw(strftime);
use Time::HiRes qw(time);
use Time::Local qw(timegm);

my $JSON = $FerryTest::JSON;
my $UUID = qr/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-
    [0-9a-f]{12}$/x;
my @USER_KEYS = sort qw(user_id provider reference_id scopes active
  created_at last_webhook_update);
my @TYPES = qw(activity sleep daily body nutrition menstruation);
my $FORMS = 'expected a date (YYYY-MM-DD), an ISO 8601 date-time or unix'
  . ' seconds';

# ---- a receiver: 200 for every request ----

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
            print $c "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n"
              . "Connection: close\r\n\r\n";
            close($c);
        }
        exit 0;
    }
    close($srv);
    return ($pid, $port);
}

my ($rpid, $rport) = receiver();
END { kill 'TERM', $rpid if $rpid }

my $f = FerryTest->new(config => "[provider sandbox]\n"
      . "[provider myfit]\ntype = oauth2\nclient_id = cid\n"
      . "client_secret = cs\nauthorize_url = /sandbox/oauth/authorize\n"
      . "token_url = /sandbox/oauth/token\nuser_id_field = sub\n"
      . "[security]\nallow_private_destinations = true\n"
      . "[deliver]\nretries = 0\n");
my $dev = $f->developer('acme');
my $other = $f->developer('other');
my $lonely = $f->developer('lonely'); # has no destination
$f->start;

sub api {
    my ($d, $path) = @_;
    return $f->request(GET => $path, headers => FerryTest::auth_headers($d));
}

sub connect_user {
    my ($d, $username) = @_;
    my $c = $f->connect_sandbox($d, username => $username);
    die "connect $username: $c->{final}{status}"
      if $c->{final}{status} != 200;
    return $c->{user_id};
}

# Write to the store beside the running server, waiting for its writer
# (the pipeline writes too); the statements run as one transaction.
sub sql_write {
    my ($sql) = @_;
    $f->sql("PRAGMA busy_timeout = 10000; BEGIN IMMEDIATE; $sql; COMMIT;");
}

# A user of `provider` put straight into the store (a provider this test
# cannot log in to).
sub stored_user {
    my ($d, $id, $provider) = @_;
    my $now = int(time * 1e6);
    sql_write("INSERT INTO users (id, dev_id, provider, provider_user_id,"
        . " created_at, updated_at) VALUES ('$id', '$d->{dev_id}',"
        . " '$provider', 'p-$id', $now, $now)");
    is($f->sql("SELECT provider FROM users WHERE id = '$id'"), $provider,
        "a user of $provider in the store");
    return $id;
}

my $alice = connect_user($dev, 'alice');
my $bob = connect_user($dev, 'bob');     # spends its hour on rule r2
my $carol = connect_user($dev, 'carol'); # to_webhook=false
my $olga = connect_user($other, 'olga');
my $lena = connect_user($lonely, 'lena');
my $r = $f->request(POST => '/v2/destinations',
    headers => FerryTest::auth_headers($dev),
    body => $JSON->encode({ type => 'webhook',
        url => "http://127.0.0.1:$rport/hook" }));
is($r->{status}, 200, 'a destination for acme') or diag($r->{body});

# ---- credentials and validation ----

FerryTest::is_error($f->request(GET => "/v2/activity?user_id=$alice"
        . '&start_date=2024-01-01'), 401, qr/dev-id or x-api-key/,
    'no credentials: 401');

my $q = "user_id=$alice&start_date=2024-01-01";
my @bad = (
    [ '/v2/activity', qr/^user_id: required/, 'nothing at all' ],
    [ '/v2/activity?start_date=2024-01-01', qr/^user_id: required/,
      'no user_id' ],
    [ "/v2/activity?user_id=$alice", qr/^start_date: required/,
      'no start_date' ],
    [ "/v2/sleep?user_id=$alice&start_date=2024-13-01",
      qr/^start_date: expected a date/, 'a month 13' ],
    [ "/v2/daily?user_id=$alice&start_date=yesterday",
      qr/^start_date: \Q$FORMS\E$/, 'a word: every form taken is named' ],
    [ "/v2/daily?user_id=$alice&start_date=999999999999",
      qr/^start_date: out of range \(1970 to 9999\)$/, 'past the year 9999' ],
    [ "/v2/body?user_id=$alice&start_date=-5",
      qr/^start_date: expected a date/, 'negative seconds' ],
    [ "/v2/activity?$q&end_date=2024-02-30", qr/^end_date: expected a date/,
      'February 30' ],
    [ "/v2/activity?$q&end_date=2024-01-01",
      qr/^end_date: must be after start_date/, 'end equal to start' ],
    [ "/v2/activity?$q&end_date=1700000000",
      qr/^end_date: must be after start_date/, 'end before start (seconds)' ],
    [ "/v2/activity?user_id=$alice&start_date=9999-01-01",
      qr/^start_date: must be before end_date/, 'start in the future' ],
    [ "/v2/activity?$q&to_webhook=yes", qr/^to_webhook: must be true or false/,
      'to_webhook=yes' ],
    [ "/v2/nutrition?$q&with_samples=2",
      qr/^with_samples: must be true or false/, 'with_samples=2' ],
    [ "/v2/plannedWorkout?user_id=$alice", qr/^start_date: required/,
      'plannedWorkout needs start_date' ],
    [ "/v2/athlete?user_id=$alice&to_webhook=maybe",
      qr/^to_webhook: must be true or false/, 'athlete: to_webhook=maybe' ],
);
for my $c (@bad) {
    FerryTest::is_error(api($dev, $c->[0]), 400, $c->[1],
        "$c->[2]: 400 naming the field");
}
is(api($dev, "/v2/athlete?user_id=$alice&start_date=junk")->{status}, 200,
    'athlete takes no dates (a bad one is not looked at)');
is(api($dev, "/v2/plannedWorkout?$q&end_date=2024-01-02&with_samples=junk")
      ->{status}, 200,
    'plannedWorkout takes no with_samples');

# ---- scoping ----

FerryTest::is_error(api($dev, '/v2/activity?user_id=no-such-user'
        . '&start_date=2024-01-01'), 404, qr/^user_id: no user 'no-such-user'/,
    'an unknown user: 404 naming user_id');
FerryTest::is_error(api($dev, "/v2/activity?user_id=$olga"
        . '&start_date=2024-01-01'), 404, qr/^user_id: no user '\Q$olga\E'/,
    'another developer\'s user: the same 404');
FerryTest::is_error(api($dev, '/v2/sleep?user_id=' . ('x' x 300)
        . '&start_date=2024-01-01'), 404, qr/^user_id: no user/,
    'an id too long to be one: 404');

# ---- no destination ----

for my $t (@TYPES[0 .. 3]) {
    $r = api($lonely, "/v2/$t?user_id=$lena&start_date=2024-01-01"
        . '&end_date=2024-01-08');
    is($r->{status}, 200, "$t without destinations: 200");
    is_deeply($r->{json}, { type => 'about:blank', title => 'ok',
        instance => "/v2/$t",
        detail => 'no destinations available for this connection' },
        '... NoDestinationsAvailable, the instance the path');
}
$r = api($lonely, "/v2/athlete?user_id=$lena");
if (($r->{json}{type} // '') ne 'no_data') {
    is($r->{json}{title}, 'ok',
        'athlete without destinations: the same answer') or diag($r->{body});
}

# ---- data sent to webhook ----

$r = api($dev, "/v2/activity?user_id=$alice&start_date=2024-01-01"
    . '&end_date=2024-01-08');
is($r->{status}, 200, 'activity, to_webhook by default: 200')
  or diag($r->{body});
my $j = $r->{json};
is_deeply([ sort keys %$j ],
    [qw(message reference status trace_id type user)],
    '... DataSentToWebhook: message, reference, status, trace_id, type, user');
is($j->{status}, 'success', '... status success');
like($j->{reference}, $UUID, '... reference a UUID');
is($j->{trace_id}, $j->{reference}, '... trace_id the reference');
is($j->{type}, 'activity', '... type the data type');
unlike($j->{message}, qr/chunk/, '... a week is not a large request');
is($r->{headers}{'terra-reference'}, $j->{reference},
    '... terra-reference header the reference');
is_deeply([ sort keys %{ $j->{user} } ], \@USER_KEYS, '... user a TerraUser');
is($j->{user}{user_id}, $alice, '... the user asked about');
my $left = $r->{headers}{'x-terra-ratelimit-remaining'} // '';
like($left, qr/^\d+$/, '... X-Terra-RateLimit-Remaining');
my $first = $j->{reference};
is($f->sql("SELECT count(*) FROM jobs WHERE kind = 'request' AND user_id ="
    . " '$alice' AND payload LIKE '%\"reference\":\"$first\"%'"), 1,
    '... and the request is queued for the pipeline with that reference');

$r = api($dev, "/v2/sleep?user_id=$alice&start_date=1704067200"
    . '&end_date=1706745600&to_webhook=true');
is($r->{json}{type}, 'sleep', 'sleep over 31 days, unix seconds: sent');
is($r->{headers}{'x-terra-ratelimit-remaining'}, $left - 31,
    '... charged 31 days');
like($r->{json}{message}, qr/chunks/, '... the message says chunks');
isnt($r->{json}{reference}, $first, '... a reference of its own');
my $sleep_ref = $r->{json}{reference};

$r = api($dev, "/v2/daily?user_id=$alice&start_date=2024-01-01"
    . '&end_date=2024-01-29&to_webhook=1');
unlike($r->{json}{message}, qr/chunks/, '28 days: not a large request');
my $daily_ref = $r->{json}{reference};

$r = api($dev, "/v2/athlete?user_id=$alice");
my $ath = $r->{json};
if (($ath->{type} // '') ne 'no_data') {
    is($ath->{type}, 'webhook', 'athlete: the union tagged webhook');
    like($ath->{reference}, $UUID, '... with a reference');
}

# ---- rate limits ----

$r = api($dev, "/v2/nutrition?user_id=$bob&start_date=2019-01-02"
    . '&end_date=2024-01-01');
is($r->{status}, 200, 'a window of exactly 1825 days is allowed');
is($r->{headers}{'x-terra-ratelimit-remaining'}, 6000 - 1825,
    '... and counted');
$r = api($dev, "/v2/nutrition?user_id=$bob&start_date=2019-01-01"
    . '&end_date=2024-01-01');
FerryTest::is_error($r, 429, qr/^rate limit r1: /, 'r1: 1826 days: 429');
is($r->{json}{rule}, 'r1', '... the body names rule r1');
is($r->{headers}{'x-terra-ratelimit-rule'}, 'r1', '... so does the header');
is($r->{headers}{'retry-after'}, 0, '... Retry-After 0: waiting cannot help');
is($r->{headers}{'x-terra-ratelimit-remaining'}, 6000 - 1825,
    '... X-Terra-RateLimit-Remaining, nothing charged');
like($r->{headers}{'x-terra-ratelimit-reset'}, qr/^\d{10}$/,
    '... X-Terra-RateLimit-Reset in unix seconds');

for (1 .. 2) {
    $r = api($dev, "/v2/menstruation?user_id=$bob&start_date=1546387200"
        . '&end_date=1704067200');
}
is($r->{headers}{'x-terra-ratelimit-remaining'}, 6000 - 3 * 1825,
    'three windows of 1825 days');
$r = api($dev, "/v2/nutrition?user_id=$bob&start_date=2023-01-01"
    . '&end_date=2024-06-09');
is($r->{headers}{'x-terra-ratelimit-remaining'}, 0,
    '... and 525 more: 6000 in the hour');
my $t0 = time;
$r = api($dev, "/v2/athlete?user_id=$bob");
FerryTest::is_error($r, 429, qr/^rate limit r2: /,
    'r2: one more day (a request without dates): 429');
is($r->{json}{rule}, 'r2', '... the body names rule r2');
is($r->{headers}{'x-terra-ratelimit-rule'}, 'r2', '... so does the header');
is($r->{headers}{'x-terra-ratelimit-remaining'}, 0, '... nothing remaining');
my $reset = $r->{headers}{'x-terra-ratelimit-reset'} // 0;
my $after = $r->{headers}{'retry-after'} // 0;
ok($reset >= int($t0) + 3540 && $reset <= $t0 + 3662,
    '... X-Terra-RateLimit-Reset about an hour on')
  or diag("reset $reset, now $t0");
ok($after > 3500 && $after <= 3661, '... Retry-After in seconds')
  or diag("retry-after $after");
ok(abs($reset - ($t0 + $after)) <= 2, '... the two agree');
is(api($dev, "/v2/activity?$q&end_date=2024-01-02")->{status}, 200,
    'another user is not limited');

# ---- types a provider lacks ----

for my $t (qw(nutrition menstruation)) {
    for my $w (qw(true false)) {
        $r = api($dev, "/v2/$t?user_id=$alice&start_date=2024-01-01"
            . "&end_date=2024-01-02&to_webhook=$w");
        is($r->{status}, 200, "SANDBOX has no $t (to_webhook=$w): 200");
        is_deeply([ sort keys %{ $r->{json} } ], [qw(message status user)],
            '... NoDataReturned: status, message, user');
        is($r->{json}{status}, 'success', '... status success');
        like($r->{json}{message}, qr/SANDBOX does not provide $t/,
            '... saying so');
    }
}
my $g = stored_user($dev, '00000000-0000-4000-8000-0000000000a1', 'MYFIT');
$r = api($dev, "/v2/activity?user_id=$g&start_date=2024-01-01");
is($r->{json}{status}, 'success', 'a generic OAuth 2.0 provider: no data');
like($r->{json}{message}, qr/no data from MYFIT/, '... as it has no adapter');
ok(!exists $r->{json}{data}, '... and no data key');
$r = api($dev, "/v2/athlete?user_id=$g&to_webhook=false");
is($r->{json}{type}, 'no_data', 'athlete of it: the union tagged no_data');
my $o = stored_user($dev, '00000000-0000-4000-8000-0000000000a2', 'OURA');
$r = api($dev, "/v2/sleep?user_id=$o&start_date=2024-01-01");
is($r->{json}{status}, 'error', 'a provider no longer enabled: status error');
like($r->{json}{message}, qr/OURA is not enabled/, '... saying so');

# ---- to_webhook=false: the records themselves ----

# Every key anywhere in `v` that ends in _samples.
sub sample_keys {
    my ($v) = @_;
    my @k;
    if (ref $v eq 'HASH') {
        for my $k (keys %$v) {
            push @k, $k if $k =~ /_samples$|_samples_|^raw_signal$/;
            push @k, sample_keys($v->{$k});
        }
    } elsif (ref $v eq 'ARRAY') {
        push @k, sample_keys($_) for @$v;
    }
    return @k;
}

# -- from the store, when it has fetched every day of the range --

my $dana = connect_user($dev, 'dana');
my $jun1 = timegm(0, 0, 0, 1, 5, 2023); # 2023-06-01T00:00:00Z
sub stored_activity {
    my ($key, $start) = @_;
    my $iso = strftime('%Y-%m-%dT%H:%M:%S.000000+00:00', gmtime($start));
    my $data = $JSON->encode({ metadata => { summary_id => $key,
        start_time => $iso }, heart_rate_data => { detailed => {
        hr_samples => [ { timestamp => $iso, bpm => 101 } ] } } });
    return "INSERT INTO records (user_id, type, key, start_at, end_at,"
        . " hash, data, created_at, updated_at) VALUES ('$dana', 'activity',"
        . " '$key', ${start}000000, ${start}000000, zeroblob(32), '$data',"
        . " 0, 0)";
}
sql_write(join('; ',
    stored_activity('late', $jun1 + 2 * 86400 + 3600),
    stored_activity('early', $jun1 + 7200),
    stored_activity('outside', $jun1 + 3 * 86400),
    map { "INSERT INTO synced_days (user_id, type, day) VALUES ('$dana',"
        . " 'activity', " . ($jun1 / 86400 + $_) . ")" } 0 .. 2));
is($f->sql("SELECT count(*) FROM synced_days WHERE user_id = '$dana'"
    . " AND type = 'activity' AND day BETWEEN 19509 AND 19511"), 3,
    'three days of activity recorded as fetched');
my $jq = "user_id=$dana&start_date=2023-06-01&end_date=2023-06-04"
    . '&to_webhook=false';
$r = api($dev, "/v2/activity?$jq");
is($r->{status}, 200, 'the store covers the range: 200') or diag($r->{body});
is_deeply([ sort keys %{ $r->{json} } ], [qw(data type user)],
    '... {data, type, user}');
is_deeply([ map { $_->{metadata}{summary_id} } @{ $r->{json}{data} } ],
    [qw(early late)], '... the stored records of the range, oldest first');
is_deeply([ sample_keys($r->{json}{data}) ], [],
    '... samples removed (with_samples defaults to false)');
is_deeply($r->{json}{data}[0]{heart_rate_data}, { detailed => {} },
    '... and nothing else');
$r = api($dev, "/v2/activity?$jq&with_samples=true");
is_deeply([ sample_keys($r->{json}{data}) ], [qw(hr_samples hr_samples)],
    'with_samples=true: the samples are kept');
is($r->{json}{data}[1]{heart_rate_data}{detailed}{hr_samples}[0]{bpm}, 101,
    '... as stored');

# daily summaries count by their local date, wherever their zone puts
# their start
sub stored_daily {
    my ($date, $start) = @_;
    my $data = $JSON->encode({ metadata => { start_time => $date } });
    return "INSERT INTO records (user_id, type, key, start_at, end_at,"
        . " local_date, hash, data, created_at, updated_at) VALUES ('$dana',"
        . " 'daily', '$date', ${start}000000, ${start}000000, '$date',"
        . " zeroblob(32), '$data', 0, 0)";
}
my $east = 9 * 3600; # local midnight at +09:00, in UTC
sql_write(join('; ',
    stored_daily('2023-06-01', $jun1 - $east),
    stored_daily('2023-06-03', $jun1 + 2 * 86400 - $east),
    stored_daily('2023-06-04', $jun1 + 3 * 86400 - $east),
    map { "INSERT INTO synced_days (user_id, type, day) VALUES ('$dana',"
        . " 'daily', " . ($jun1 / 86400 + $_) . ")" } 0 .. 2));
$r = api($dev, "/v2/daily?user_id=$dana&start_date=2023-06-01"
    . '&end_date=2023-06-04&to_webhook=false');
is_deeply([ map { $_->{metadata}{start_time} } @{ $r->{json}{data} // [] } ],
    [qw(2023-06-01 2023-06-03)],
    'stored daily summaries: by local date, the end date excluded');

# -- from the provider otherwise --

my $week = "user_id=$carol&start_date=2024-03-04&end_date=2024-03-11";
$r = api($dev, "/v2/activity?$week&to_webhook=false");
is($r->{status}, 200, 'activity, to_webhook=false: 200') or diag($r->{body});
$j = $r->{json} // {};
is_deeply([ sort keys %$j ], [qw(data type user)], '... {data, type, user}');
is($j->{type}, 'activity', '... type activity');
is($j->{user}{user_id}, $carol, '... the user');
is(ref $j->{data}, 'ARRAY', '... data an array');
ok(@{ $j->{data} // [] } > 0, '... of SANDBOX\'s activities that week');
# a session belongs to the range by the instant it started
sub utc_seconds {
    my ($iso) = @_;
    my ($y, $mo, $d, $h, $mi, $s, $sign, $oh, $om) = ($iso // '')
      =~ /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.\d+)?([+-])(\d\d):(\d\d)$/
      or return undef;
    require Time::Local;
    my $t = Time::Local::timegm($s, $mi, $h, $d, $mo - 1, $y);
    my $off = ($oh * 3600 + $om * 60) * ($sign eq '+' ? 1 : -1);
    return $t - $off;
}
my ($lo, $hi) = (1709510400, 1710115200); # 2024-03-04 and -11, 00:00Z
my $in_range = grep {
    my $t = utc_seconds($_->{metadata}{start_time});
    defined $t && $t >= $lo && $t < $hi
} @{ $j->{data} // [] };
is($in_range, scalar @{ $j->{data} // [] },
    '... each starting within the range');
is_deeply([ sample_keys($j->{data}) ], [], '... without samples');
my $plain = $j->{data};

$r = api($dev, "/v2/activity?$week&to_webhook=false&with_samples=true");
is($r->{status}, 200, 'with_samples=true: 200');
ok(scalar(sample_keys($r->{json}{data})) > 0, '... the samples are there');
is(scalar @{ $r->{json}{data} // [] }, scalar @$plain,
    '... the same records');
my @records = split /\n/, $f->sql("SELECT key FROM records WHERE user_id ="
    . " '$carol' AND type = 'activity'");
ok(@records >= @$plain, 'the fetched records were stored');

# the first and last days the API takes: the day asked for around them
# stays within 1970-9999
for my $edge ([ '0', '86400', 'the first day of 1970' ],
    [ '9999-12-30', '9999-12-31', 'the last days of 9999' ]) {
    $r = api($dev, "/v2/sleep?user_id=$carol&start_date=$edge->[0]"
        . "&end_date=$edge->[1]&to_webhook=false");
    is($r->{status}, 200, "$edge->[2]: 200") or diag($r->{body});
    is(ref $r->{json}{data}, 'ARRAY', '... with data (none)');
}

$r = api($dev, "/v2/daily?$week&to_webhook=false");
is($r->{json}{type}, 'daily', 'daily, to_webhook=false');
is(scalar @{ $r->{json}{data} // [] }, 7, '... one summary per day');

$r = api($dev, "/v2/athlete?user_id=$carol&to_webhook=false");
if (($r->{json}{type} // '') eq 'athlete') {
    is_deeply([ sort keys %{ $r->{json} } ], [qw(athlete type user)],
        'athlete inline: {type:"athlete", athlete, user}');
    is(ref $r->{json}{athlete}, 'HASH', '... athlete an object');
} else {
    is($r->{json}{type}, 'no_data', 'athlete inline: no_data when none');
}

# ---- records fetched for a request are not announced as new data ----

# Data events of `user` (no reference: new data) holding a record that
# starts on one of the days matched by `like` (an SQL LIKE pattern).
sub data_events_on {
    my ($user, $like) = @_;
    return $f->sql("SELECT count(*) FROM events WHERE user_id = '$user'"
          . " AND reference IS NULL AND type IN ('activity', 'daily')"
          . " AND body LIKE '%\"start_time\":\"$like%'");
}

my $deadline = time + 60;
sleep 0.2 while data_events_on($carol, '20%') eq '0' && time < $deadline;
ok(data_events_on($carol, '20%') > 0,
    'the backfill\'s records were announced (the pattern finds them)');
is(data_events_on($carol, '2024-03-%'), 0,
    'to_webhook=false: the records answered made no data event');
$deadline = time + 60;
sleep 0.2 while $f->sql("SELECT count(*) FROM events WHERE reference ="
      . " '$daily_ref'") eq '0' && time < $deadline;
like($f->sql("SELECT body FROM events WHERE reference = '$daily_ref'"),
    qr/"start_time":"2024-01-/,
    'to_webhook=true: the request\'s event holds the days fetched');
is(data_events_on($alice, '2024-01-%'), 0,
    '... and no other data event holds them');
is($f->sql("SELECT count(*) FROM records WHERE user_id = '$alice'"
      . " AND type = 'daily' AND announced != 1"
      . " AND local_date BETWEEN '2024-01-01' AND '2024-01-28'"), 0,
    '... they count as announced');
like($f->sql("SELECT count(*) || ':' || sum(announced) FROM records"
      . " WHERE user_id = '$alice' AND type = 'daily' AND local_date IN"
      . " ('2023-12-31', '2024-01-29')"), qr/^[12]:0$/,
    '... a day asked for around the range is stored, not announced');
# what a request marks announced is what its events carry: the nights
# starting in the range, not those the provider gave around it
$deadline = time + 60;
sleep 0.2 while $f->sql("SELECT count(*) FROM events WHERE reference ="
      . " '$sleep_ref' AND type = 'large_request_sending'") eq '0'
  && time < $deadline;
my $nights_in = "user_id = '$alice' AND type = 'sleep'"
  . " AND start_at >= 1704067200000000 AND start_at < 1706745600000000";
my $nights = $f->sql("SELECT count(*) FROM records WHERE $nights_in");
ok($nights > 0, 'the 31-day sleep request stored nights');
is($f->sql("SELECT coalesce(sum(json_array_length(body, '\$.data')), 0)"
      . " FROM events WHERE reference = '$sleep_ref' AND type = 'sleep'"),
    $nights, '... its chunks carry every night of the range');
is($f->sql("SELECT count(*) FROM records WHERE $nights_in AND announced = 1"),
    $nights, '... and those count as announced');
is($f->sql("SELECT count(*) FROM records WHERE user_id = '$alice'"
      . " AND type = 'sleep' AND announced = 1 AND (start_at"
      . " < 1704067200000000 OR start_at >= 1706745600000000)"
      . " AND start_at < 1709251200000000"), 0,
    '... none outside it, which no event carried');

# a request job run again (as after a crash took its lease) sends
# nothing it sent before
sub ref_events {
    return $f->sql("SELECT count(*) FROM events WHERE reference = '$_[0]'");
}
# A pending copy of the request job of `ref`, as a crash leaves one to
# run again.
sub job_again {
    my ($ref) = @_;
    $f->sql("INSERT INTO jobs (id, dev_id, user_id, kind, lane, payload,"
          . " state, run_at, created_at) SELECT lower(hex(randomblob(16))),"
          . " dev_id, user_id, kind, lane, payload, 'pending', run_at,"
          . " created_at FROM jobs WHERE kind = 'request' AND payload LIKE"
          . " '%$ref%' LIMIT 1");
}
my %before = map { $_ => ref_events($_) } $daily_ref, $sleep_ref;
job_again($_) for $daily_ref, $sleep_ref;
$deadline = time + 60;
sleep 0.2 while $f->sql("SELECT count(*) FROM jobs WHERE kind = 'request'"
      . " AND state != 'done' AND (payload LIKE '%$daily_ref%' OR payload"
      . " LIKE '%$sleep_ref%')") ne '0' && time < $deadline;
is($f->sql("SELECT count(*) FROM jobs WHERE kind = 'request' AND state ="
      . " 'done' AND (payload LIKE '%$daily_ref%' OR payload LIKE"
      . " '%$sleep_ref%')"), 4, 'two request jobs ran again');
is(ref_events($daily_ref), $before{$daily_ref}, '... one event: no more');
is(ref_events($sleep_ref), $before{$sleep_ref},
    '... a large request in chunks: no more');

# A large request stopped after its first two chunks (as kill -9 would
# leave it: its other events undone, what it sent kept), with a night
# that turned up in the range meanwhile: run again, it sends the nights
# no chunk carried, the new one among them, and each night once.
{
    my $sid = "json_extract(value, '\$.metadata.summary_id')";
    my @kept = split /\n/, $f->sql("SELECT id FROM events WHERE reference ="
          . " '$sleep_ref' AND type = 'sleep' ORDER BY seq LIMIT 2");
    my $keep = join(', ', map {"'$_'"} @kept);
    sql_write("DELETE FROM deliveries WHERE event_id IN (SELECT id FROM"
          . " events WHERE reference = '$sleep_ref' AND id NOT IN ($keep)"
          . " AND type != 'large_request_processing');"
          . " DELETE FROM events WHERE reference = '$sleep_ref'"
          . " AND id NOT IN ($keep) AND type != 'large_request_processing';"
          . " DELETE FROM request_sends WHERE reference = '$sleep_ref';"
          . " INSERT INTO request_sends VALUES ('$sleep_ref', 'event',"
          . " 'large_request_processing');"
          . " INSERT INTO request_sends SELECT '$sleep_ref', 'chunk', id"
          . " FROM events WHERE id IN ($keep);"
          . " INSERT INTO request_sends SELECT DISTINCT '$sleep_ref', 'sleep',"
          . " r.key FROM events e, json_each(e.body, '\$.data'), records r"
          . " WHERE e.id IN ($keep) AND r.user_id = '$alice' AND r.type ="
          . " 'sleep' AND json_extract(r.data, '\$.metadata.summary_id')"
          . " = $sid;"
          . " INSERT INTO records SELECT user_id, type, 'late-night',"
          . " start_at + 1000000, end_at, local_date, randomblob(32),"
          . " json_set(data, '\$.metadata.summary_id', 'LATE'), created_at,"
          . " updated_at, 0 FROM records WHERE $nights_in"
          . " ORDER BY start_at LIMIT 1");
    is($f->sql("SELECT count(*) FROM request_sends WHERE reference ="
          . " '$sleep_ref' AND type = 'sleep'"), 20,
        'a large request stopped after two chunks of ten nights');
    job_again($sleep_ref);
    $deadline = time + 60;
    sleep 0.2 while $f->sql("SELECT count(*) FROM events WHERE reference ="
          . " '$sleep_ref' AND type = 'large_request_sending'") eq '0'
      && time < $deadline;
    my @sent = split /\n/, $f->sql("SELECT $sid FROM events,"
          . " json_each(events.body, '\$.data') WHERE events.reference ="
          . " '$sleep_ref' AND events.type = 'sleep'");
    my %times;
    $times{$_}++ for @sent;
    is(scalar(grep { $times{$_} > 1 } keys %times), 0,
        '... run again, it sends no night twice');
    is(scalar @sent, $nights + 1, '... and every night of the range');
    ok($times{LATE}, '... the one that turned up meanwhile among them');
    my $chunks = $f->sql("SELECT count(*) FROM events WHERE reference ="
          . " '$sleep_ref' AND type = 'sleep'");
    is($f->sql("SELECT json_extract(body, '\$.expected_payloads') FROM events"
          . " WHERE reference = '$sleep_ref' AND type ="
          . " 'large_request_sending'"), $chunks,
        '... and large_request_sending counts every chunk');
}
ok($f->sql("SELECT count(*) FROM records WHERE user_id = '$carol'"
      . " AND type = 'activity' AND announced = 0") > 0,
    'what to_webhook=false fetched waits for a backfill or poll to announce');

# ---- a backfill run again announces no type twice ----

sub announced {
    return $f->sql("SELECT count(*) FROM events WHERE user_id = '$carol'"
          . " AND type = 'backfill_complete'");
}

sub backfills_done {
    return $f->sql("SELECT count(*) FROM jobs WHERE user_id = '$carol'"
          . " AND kind = 'backfill' AND state = 'done'");
}

$deadline = time + 60;
sleep 0.2 while announced() < 5 && time < $deadline;
my $before = announced();
is($before, 5, 'backfill_complete once for each SANDBOX type');
$f->sql("PRAGMA busy_timeout = 10000; INSERT INTO jobs (id, dev_id,"
      . " user_id, kind, lane, state, run_at, created_at)"
      . " SELECT lower(hex(randomblob(16))), dev_id, user_id, 'backfill',"
      . " 'data', 'pending', run_at, created_at FROM jobs"
      . " WHERE user_id = '$carol' AND kind = 'backfill' LIMIT 1");
$deadline = time + 60;
sleep 0.2 while backfills_done() < 2 && time < $deadline;
is(backfills_done(), 2, 'the backfill ran again (as after a crash)');
is(announced(), $before, '... and announced nothing again');

# ---- the user's last webhook update: when one of its events arrived ----

$deadline = time + 30;
sleep 0.2 while $f->sql("SELECT last_webhook_update IS NOT NULL FROM users"
      . " WHERE id = '$carol'") ne '1' && time < $deadline;
$r = api($dev, "/v2/userInfo?user_id=$carol");
like($r->{json}{user}{last_webhook_update} // '',
    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/,
    'last_webhook_update set once events were delivered');

$f->stop;
done_testing();

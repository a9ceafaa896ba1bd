# `ferry demo`: what it prints works, and every start makes a new key.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use Digest::SHA qw(sha256_hex);
use Test::More;

# No provider section at all: the demo enables SANDBOX by itself.
my $f = FerryTest->new(config => '');

sub demo_output {
    my ($self) = @_;
    my $deadline = time + 10;
    while (time < $deadline) {
        my $out = $self->stdout_text;
        return $out if $out =~ /Stop with Ctrl-C/;
        select(undef, undef, undef, 0.05);
    }
    return $self->stdout_text;
}

$f->start(command => 'demo');
my $out = demo_output($f);
my $base = $f->base;
like($out, qr/demo at \Q$base\E/, 'prints where it serves');
my ($dev) = $out =~ /^\s+dev-id\s+(dev_[0-9a-f]{20})$/m;
my ($key) = $out =~ /^\s+api key\s+(fk_[A-Za-z0-9_-]{43})$/m;
my ($link) = $out =~ m{^\s+widget\s+(\Q$base\E/widget/\S+)$}m;
ok($dev, 'prints the dev-id');
ok($key, 'prints an API key');
ok($link, 'prints a widget link');
like($out, qr{curl -s -X POST \Q$base\E/v2/auth/generateWidgetSession},
    'prints a curl command for generateWidgetSession');
like($out, qr/-H 'dev-id: \Q$dev\E'/, '... with the dev-id');
like($out, qr/-H 'x-api-key: \Q$key\E'/, '... and the key');

my ($token) = $link =~ m{/widget/(.+)$};
is($f->sql("select providers || '|' || dev_id from sessions where "
      . "hex(token_hash) = '" . uc(sha256_hex($token)) . "'"),
    "SANDBOX|$dev", 'the printed link is a stored SANDBOX session');

# The curl command the demo prints works as printed.
my ($curl) = $out =~ /(curl -s -X POST .*?\}')/s;
$curl =~ s/\\\n//g;
my $answer = `$curl`;
my $j = eval { $FerryTest::JSON->decode($answer) } // {};
is($j->{status}, 'success', 'the printed curl command succeeds')
  or diag($answer);
like($j->{url} // '', qr{^\Q$base\E/widget/}, '... and gives a link');
$f->stop;

# A second start: same demo developer, a new key; both keys work.
$f->start(command => 'demo');
$out = demo_output($f);
my ($dev2) = $out =~ /^\s+dev-id\s+(\S+)$/m;
my ($key2) = $out =~ /^\s+api key\s+(\S+)$/m;
is($dev2, $dev, 'the demo developer is kept across starts');
isnt($key2, $key, 'every start makes a new key');
for my $k ($key, $key2) {
    my $r = $f->request(POST => '/v2/auth/generateWidgetSession',
        headers => { 'dev-id' => $dev, 'x-api-key' => $k }, body => '{}');
    is($r->{status}, 200, 'a demo key works');
}
is($f->sql("select count(*) from developers"), 1, 'one demo developer');
my $base2 = $f->base;
like($out, qr{^\s+inbox\s+\Q$base2\E/demo/inbox$}m, 'prints the inbox page');
is($f->sql("select count(*) from destinations where kind = 'demo'"), 1,
    'one demo inbox destination, kept across starts');

# A login reaches the inbox as a signed, verified auth event.
my $c = $f->connect_sandbox({ dev_id => $dev2, api_key => $key2 },
    username => 'inbox-user');
my $inbox = '';
for (1 .. 100) {
    $inbox = $f->request(GET => '/demo/inbox')->{body} // '';
    last if $inbox =~ /\Q$c->{user_id}\E/;
    select(undef, undef, undef, 0.1);
}
like($inbox, qr{<h2>auth</h2>}, 'the inbox lists the auth event');
like($inbox, qr/\Q$c->{user_id}\E/, '... of the user just connected');
like($inbox, qr/signature verified: HMAC-SHA256/, '... its signature checked');
like($inbox, qr/terra-signature: t=\d+,v1=[0-9a-f]{64}/, '... and shown');
like($inbox, qr/&quot;type&quot;:&quot;auth&quot;/, '... with its body, escaped');
my $page = $f->request(GET => '/demo/inbox');
like($page->{headers}{'content-security-policy'} // '', qr/default-src 'none'/,
    'the inbox page sends the strict CSP');
is($page->{headers}{'x-frame-options'}, 'DENY', '... and refuses framing');
is($f->sql("select state from deliveries d join events e on e.id = d.event_id"
      . " where e.user_id = '$c->{user_id}' and e.type = 'auth'"),
    'delivered', 'the delivery is recorded as delivered');
$f->stop;

# Only `ferry demo` delivers to the inbox: an event recorded while
# `ferry serve` runs on the demo's store waits for the next demo.
$f->start;
my $gone = $f->fetch(DELETE =>
      "/v2/auth/deauthenticateUser?user_id=$c->{user_id}",
    headers => { 'dev-id' => $dev, 'x-api-key' => $key2 });
is($gone->{status}, 200, 'ferry serve: a deauthentication is recorded');
my $deauth_delivery = "select count(*) from deliveries d join events e"
  . " on e.id = d.event_id where e.user_id = '$c->{user_id}'"
  . " and e.type = 'deauth' and d.state = 'delivered'";
# the engine claims at once and reloads every 2 s: 3 s is room for both
select(undef, undef, undef, 3);
is($f->sql($deauth_delivery), 0, '... and not delivered to the inbox');
$f->stop;
$f->start(command => 'demo');
demo_output($f);
for (1 .. 100) {
    last if $f->sql($deauth_delivery) == 1;
    select(undef, undef, undef, 0.1);
}
is($f->sql($deauth_delivery), 1, 'the next demo delivers it');
like($f->request(GET => '/demo/inbox')->{body} // '', qr{<h2>deauth</h2>},
    '... and lists it in the inbox');
$f->stop;

# The inbox is mounted by `ferry demo` only.
my $plain = FerryTest->new;
$plain->start;
is($plain->request(GET => '/demo/inbox')->{status}, 404,
    '/demo/inbox is not served by ferry serve');
$plain->stop;

# --role worker serves no HTTP but runs until told to stop.
my $w = FerryTest->new;
my $pid = fork();
if ($pid == 0) {
    %ENV = $w->child_env;
    open(STDERR, '>', $w->dir . '/worker.err');
    exec(FerryTest::bin(), 'serve', '--role', 'worker', '--config', $w->conf);
}
select(undef, undef, undef, 0.5);
ok(kill(0, $pid), '--role worker keeps running');
unlike(FerryTest::slurp($w->dir . '/worker.err'), qr/event=listening/,
    '... without listening');
kill 'TERM', $pid;
waitpid($pid, 0);
is($?, 0, '... and stops cleanly on SIGTERM');

my ($code, undef, $err) = $w->cli('serve', '--role', 'cook');
is($code, 2, 'an unknown role is a usage error');

done_testing;

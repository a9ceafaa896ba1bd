# The operator commands: help, version, developers, keys, migrate, and
# configuration errors that stop start-up.
use strict;
use warnings;
use lib 'tests/integration/lib';
use FerryTest;
use Test::More;
use Cwd ();

my $f = FerryTest->new(no_store => 1);

my ($code, $out, $err) = $f->cli('--version');
is($code, 0, '--version exits 0');
like($out, qr/^ferry \d+\.\d+\.\d+$/m, '--version prints the version');

($code, $out) = $f->cli('help');
is($code, 0, 'help exits 0');
like($out, qr/ferry developer create NAME/, 'help lists developer create');
($code, $out) = $f->cli('key', '--help');
like($out, qr/key revoke KEY_ID/, 'key --help shows its usage');
($code, undef, $err) = $f->cli('frobnicate');
is($code, 2, 'an unknown command is a usage error');
like($err, qr/unknown command 'frobnicate'/, '... naming it');
($code, undef, $err) = $f->cli('developer', 'create');
is($code, 2, 'developer create without NAME is a usage error');

# only migrate, serve and demo create a store: an admin command run with
# the wrong path must not start an empty one of its own
for my $args ([ 'users', 'list' ], [ 'developer', 'create', 'Early' ],
    [ 'events', 'list' ]) {
    ($code, $out, $err) = $f->cli(@$args);
    is($code, 1, "@$args before migrate fails");
    like($err, qr/no store at \Q${\ $f->dir }\E\/ferry\.db/,
        '... naming the file');
}
ok(!-e $f->dir . '/ferry.db', '... and creates none');
{
    # a relative path is taken, and shown, from the working directory
    my $rel = FerryTest->new(no_store => 1);
    my $name = "ferry-test-absent-$$.db";
    open(my $fh, '>', $rel->conf) or die "write config: $!";
    print $fh "[store]\nurl = sqlite:$name\n";
    close($fh);
    ($code, undef, $err) = $rel->cli('users', 'list');
    is($code, 1, 'a relative store that is not there: fails');
    like($err, qr/no store at \Q${\ Cwd::getcwd() }\E\/\Q$name\E \(a relative/,
        '... naming it in full, saying where relative paths start');
    ok(!-e $name, '... and creates none');

    # an empty file is no store either, and is left as it is
    my $empty = $rel->dir . '/empty.db';
    open($fh, '>', $rel->conf) or die "write config: $!";
    print $fh "[store]\nurl = sqlite:$empty\n";
    close($fh);
    open(my $ef, '>', $empty) or die "empty: $!";
    close($ef);
    ($code, undef, $err) = $rel->cli('developer', 'create', 'Nowhere');
    is($code, 1, 'an empty file as the store: refused');
    like($err, qr/no ferry store in \Q$empty\E/, '... naming it');
    is(-s $empty, 0, '... and left empty');
}

($code, $out, $err) = $f->cli('migrate');
is($code, 0, 'migrate exits 0') or diag($err);
like($out, qr/^schema at version (\d+) of \1$/,
    'migrate reports the version (and not the store URL)');
($code, undef, $err) = $f->cli('events', 'show', 'no-such-event');
is($code, 1, 'events show of an unknown id fails');
is($err, "ferry: no event with id 'no-such-event'\n", '... saying so plainly');
($code, undef, $err) = $f->cli('events', 'show', "x\e[31m\ny");
is($err, "ferry: no event with id 'x\\x1b[31m\\x0ay'\n",
    '... with control bytes shown, not sent to the terminal');
($code, undef, $err) = $f->cli('events', 'replay', 'no-such-event');
is($err, "ferry: no event with id 'no-such-event'\n", '... as does replay');
($code, $out) = $f->cli('migrate', '--json');
like($out, qr/^\{"latest":\d+,"version":\d+\}$|^\{"version":\d+,"latest":\d+\}$/,
    'migrate --json');
($code, undef, $err) = $f->cli('help', 'nope');
is($code, 2, 'help for an unknown command is a usage error');
like($err, qr/unknown command 'nope'/, '... naming it');

my $dev = $f->developer('Acme Health');
like($dev->{dev_id}, qr/^dev_[0-9a-f]{20}$/, 'dev_id shape');
like($dev->{api_key}, qr/^fk_[A-Za-z0-9_-]{43}$/, 'api_key: 32 random bytes');
like($dev->{key_id}, qr/^key_[0-9a-f]{16}$/, 'key_id shape');

($code, $out) = $f->cli('developer', 'create', 'Plain');
like($out, qr/^dev_id\s+dev_[0-9a-f]{20}$/m, 'plain output has dev_id');
like($out, qr/^api_key\s+fk_\S{43}$/m, 'plain output has api_key');

($code, $out) = $f->cli('developer', 'list', '--json');
is($code, 0, 'developer list --json exits 0');
my $list = $FerryTest::JSON->decode($out);
is(scalar @$list, 2, 'two developers listed');
is($list->[0]{dev_id}, $dev->{dev_id}, 'oldest first');
is($list->[0]{name}, 'Acme Health', 'name kept');
is($list->[0]{active_keys}, 1, 'one active key');
like($list->[0]{created_at},
    qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/,
    'created_at with microseconds and an offset');

for my $c ([ "bad\xff\xfename", qr/name: must be valid UTF-8/ ],
    [ "ov\xc0\xafname", qr/name: must be valid UTF-8/ ],
    [ "c1\xc2\x85name", qr/name: must not contain control characters/ ],
    [ "tab\tname", qr/name: must not contain control characters/ ],
    [ '', qr/name: must not be empty/ ],
    [ 'n' x 129, qr/name: longer than 128 bytes/ ]) {
    my ($name, $re) = @$c;
    ($code, undef, $err) = $f->cli('developer', 'create', $name);
    is($code, 1, 'a bad developer name is refused');
    like($err, $re, '... saying why');
}
($code, $out) = $f->cli('developer', 'create', "Caf\xc3\xa9 \xe2\x82\xac",
    '--json');
is($code, 0, 'a UTF-8 developer name is fine');
($code, $out) = $f->cli('developer', 'list', '--json');
is(scalar @{ $FerryTest::JSON->decode($out) }, 3,
    'every developer is listed in JSON');

($code, $out) = $f->cli('key', 'create', $dev->{dev_id}, '--json');
is($code, 0, 'key create exits 0');
my $k2 = $FerryTest::JSON->decode($out);
isnt($k2->{api_key}, $dev->{api_key}, 'a second, different key');

($code, undef, $err) = $f->cli('key', 'create', 'dev_nope');
is($code, 1, 'key create for an unknown developer fails');
like($err, qr/developer/i, '... saying why');

($code, undef, $err) = $f->cli('key', 'list', 'dev_nope');
is($code, 1, 'key list for an unknown developer fails');
like($err, qr/no developer/, '... saying so');

($code, $out) = $f->cli('key', 'list', $dev->{dev_id}, '--json');
my $keys = $FerryTest::JSON->decode($out);
is(scalar @$keys, 2, 'two keys listed');
is($keys->[0]{hint}, substr($dev->{api_key}, -4), 'hint is the last four');
ok(!defined $keys->[0]{revoked_at}, 'active key has no revoked_at');

($code, $out) = $f->cli('key', 'revoke', $k2->{key_id}, '--json');
is($code, 0, 'key revoke exits 0');
is_deeply($FerryTest::JSON->decode($out),
    { key_id => $k2->{key_id}, revoked => JSON::PP::true },
    '... and says so');
($code, undef, $err) = $f->cli('key', 'revoke', $k2->{key_id});
is($code, 1, 'revoking twice fails');
like($err, qr/already revoked/i, '... saying it is already revoked');
($code, undef, $err) = $f->cli('key', 'revoke', 'key_0000000000000000');
is($code, 1, 'revoking an unknown key fails');

# Keys are stored only as hashes.
my $db = FerryTest::slurp($f->dir . '/ferry.db')
  . FerryTest::slurp($f->dir . '/ferry.db-wal');
unlike($db, qr/\Q$dev->{api_key}\E/, 'the key is not in the store');
is($f->sql('select count(*) from api_keys where length(hash) = 32'), 4,
    'four 32-byte key hashes stored');

# Configuration errors stop start-up and name file, line and key.
my $bad = FerryTest->new(config => "[server]\nlisen = 1\n");
($code, undef, $err) = $bad->cli('migrate');
is($code, 1, 'an unknown key stops the command');
like($err, qr/ferry\.conf:8: unknown key 'lisen' in section \[server\]/,
    '... naming file, line and key');

$bad = FerryTest->new(config => "[sever]\n");
($code, undef, $err) = $bad->cli('migrate');
like($err, qr/ferry\.conf:7: unknown section \[sever\]/,
    'an unknown section names file and line');

$bad = FerryTest->new(config => "[provider fitbyte]\nclient_id = x\n");
($code, undef, $err) = $bad->serve_error;
like($err, qr/\[provider fitbyte\]: unknown provider/,
    'an unknown provider section stops start-up');

for my $c ([ "[server]\npublic_url = javascript:alert(1)//\n",
        qr/public_url: expected http/ ],
    [ "[server]\npublic_url = https://a.example/x?y=1\n",
        qr/public_url: must not have a query/ ],
    [ "[server]\npublic_url = https://a.example/" . ('a' x 300) . "\n",
        qr/public_url: longer than/ ]) {
    # long values come from the environment: a file line is cut at 200
    my ($conf, $re) = @$c;
    my $p = FerryTest->new(config => "[provider sandbox]\n");
    my ($v) = $conf =~ /public_url = (.*)\n/;
    my $pid = fork();
    if ($pid == 0) {
        %ENV = ($p->child_env, FERRY_SERVER_PUBLIC_URL => $v);
        open(STDERR, '>', $p->dir . '/pu.err');
        open(STDOUT, '>', '/dev/null');
        exec(FerryTest::bin(), 'serve', '--config', $p->conf);
    }
    waitpid($pid, 0);
    is($? >> 8, 1, 'a bad public_url stops start-up');
    like(FerryTest::slurp($p->dir . '/pu.err'), $re, '... saying why');
}

{
    my $p = FerryTest->new;
    system('mkfifo', $p->dir . '/ferry.key') == 0 or die "mkfifo";
    my ($c2, undef, $e2) = $p->serve_error;
    is($c2, 1, 'a FIFO as key_file stops start-up (and does not hang)');
    like($e2, qr/key_file .*not a regular file/, '... saying why');
}

{
    local $ENV{PATH} = $ENV{PATH};
    my $env = FerryTest->new;
    my $pid = fork();
    if ($pid == 0) {
        %ENV = ($env->child_env, FERRY_SERVER_LISTN => '1');
        open(STDERR, '>', $env->dir . '/env.err');
        exec(FerryTest::bin(), 'migrate', '--config', $env->conf);
    }
    waitpid($pid, 0);
    is($? >> 8, 1, 'an unknown FERRY_ variable stops the command');
    like(FerryTest::slurp($env->dir . '/env.err'),
        qr/FERRY_SERVER_LISTN/, '... naming it');
}

# The key file is made on first start, private to its owner.
$f->start;
my $mode = (stat($f->dir . '/ferry.key'))[2] & 07777;
is(sprintf('%o', $mode), '600', 'key file created with mode 0600');
like(FerryTest::slurp($f->dir . '/ferry.key'), qr/^[0-9a-f]{64}\n$/,
    'key file holds 64 hex digits');
$f->stop;

done_testing;

package FerryTest;

# Start `serve` expecting it to fail; returns (exit code, '', stderr).
sub serve_error {
    my ($self) = @_;
    my $pid = fork();
    if ($pid == 0) {
        %ENV = $self->child_env;
        open(STDERR, '>', $self->dir . '/serve.err');
        open(STDOUT, '>', '/dev/null');
        exec(FerryTest::bin(), 'serve', '--config', $self->conf);
    }
    waitpid($pid, 0);
    return ($? >> 8, '', FerryTest::slurp($self->dir . '/serve.err'));
}

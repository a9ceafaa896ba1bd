# 80-key.t - the master key file must be the one the store's tokens were
# sealed with.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use FerryTest;
use Test::More;

my $f = FerryTest->new(config => "[provider sandbox]\n");
$f->start;
my $dev = $f->developer('keys');
my $c = $f->connect_sandbox($dev, username => 'keeper', body => {
    reference_id => 'k1',
    auth_success_redirect_url => 'https://app.example/ok' });
like($c->{user_id}, qr/^[0-9a-f-]{36}$/, 'a connection with a sealed token');
$f->stop;

my $key = $f->dir . '/ferry.key';
my $good = FerryTest::slurp($key);
open(my $fh, '>', $key) or die "key: $!";
print $fh ('ab' x 32) . "\n";
close($fh);
my ($code, $err) = serve_error($f);
is($code, 1, 'another key file with tokens stored stops start-up');
like($err, qr/key_file .* is not the key the 1 encrypted tokens/,
    '... saying so');

open($fh, '>', $key) or die "key: $!";
print $fh $good;
close($fh);
$f->start;
ok($f->alive, 'the right key file starts again');
my $r = $f->fetch(DELETE => "/v2/auth/deauthenticateUser?user_id=$c->{user_id}",
    headers => FerryTest::auth_headers($dev));
is($r->{status}, 200, '... and can open the token (deauth revokes it)');
$f->stop;

# no tokens left, but the store was set up with a key: a missing key
# file is not made anew (a server started from another directory would
# split the store between two keys) until the operator removes the check
unlink($key);
($code, $err) = serve_error($f);
is($code, 1, 'without tokens a missing key file still stops start-up');
like($err, qr/key_file \Q$key\E is missing but the store was set up with a key/,
    '... saying so');
ok(!-e $key, '... making no key');
$f->sql("delete from settings where name = 'key_check'");
$f->start;
ok($f->alive, 'with the check removed a new key is made');
ok(-s $key, '... in the key file');
unlike($f->log_text, qr/check_renewed/, '... a new check, not a renewal');
$f->stop;

# the check value lost or damaged: a stored token decides
my $good2 = FerryTest::slurp($key);
$f->start;
$c = $f->connect_sandbox($dev, username => 'keeper2', body => {
    reference_id => 'k2',
    auth_success_redirect_url => 'https://app.example/ok' });
$f->stop;
$f->sql("update settings set value = x'00'");
$f->start;
ok($f->alive, 'a damaged check value with the right key: starts');
like($f->log_text, qr/event=key\.check_renewed tokens=1/, '... renewing it');
$f->stop;
$f->sql("delete from settings");
open($fh, '>', $key) or die "key: $!";
print $fh ('cd' x 32) . "\n";
close($fh);
($code, $err) = serve_error($f);
is($code, 1, 'no check value and a wrong key: a token decides, it stops');
like($err, qr/is not the key the 1 encrypted tokens/, '... saying so');
open($fh, '>', $key) or die "key: $!";
print $fh substr($good2, 0, 32);
close($fh);
($code, $err) = serve_error($f);
is($code, 1, 'a hex key file cut to 32 bytes is refused');
like($err, qr/expected 32 raw bytes or 64 hex digits/, '... as not a key');

# An admin command never sets up a second key for a store the server
# set up: run with another key_file (from another directory, say), it
# refuses instead of sealing with a key the server does not have.
my $d = FerryTest->new(config =>
      "[provider sandbox]\n[security]\nallow_private_destinations = true\n");
$d->start;
my $ddev = $d->developer('dest-keys');
$d->stop;
my $dkey = $d->dir . '/ferry.key';
my $elsewhere = $d->dir . '/elsewhere.key';
my $add = sub {
    my ($keyfile) = @_;
    (my $conf = FerryTest::slurp($d->conf)) =~ s/^key_file = .*$/key_file = $keyfile/m;
    my $alt = $d->dir . '/alt.conf';
    open(my $cf, '>', $alt) or die "alt: $!";
    print $cf $conf;
    close($cf);
    local $d->{conf} = $alt;
    return $d->cli('destination', 'add', $ddev->{dev_id}, 'webhook',
        'http://127.0.0.1:9/hook');
};
my (undef, $out);
($code, $out, $err) = $add->($elsewhere);
is($code, 1, 'admin command, key file missing, store set up: refused');
like($err, qr/key_file \Q$elsewhere\E is missing but the store was set up/,
    '... naming the file');
ok(!-e $elsewhere, '... and making none');
open($fh, '>', $elsewhere) or die "key: $!";
print $fh ('ef' x 32) . "\n";
close($fh);
($code, $out, $err) = $add->($elsewhere);
is($code, 1, 'admin command, another key file: refused');
like($err, qr/not the key this store was set up with/, '... saying so');
is($d->sql('select count(*) from destinations'), 0, '... adding nothing');

# destinations are sealed too: with one in use and no token, a server
# refuses a missing or another key as it does with tokens
($code, $out, $err) = $add->($dkey);
is($code, 0, 'with the right key the destination is added') or diag($err);
my $dgood = FerryTest::slurp($dkey);
unlink($dkey);
($code, $err) = serve_error($d);
is($code, 1, 'serve: key file missing with a destination sealed: stops');
like($err, qr/holds 0 encrypted tokens and 1 destinations sealed with it/,
    '... saying why');
ok(!-e $dkey, '... and makes no key');
open($fh, '>', $dkey) or die "key: $!";
print $fh ('12' x 32) . "\n";
close($fh);
$d->sql("delete from settings");
($code, $err) = serve_error($d);
is($code, 1, 'serve: another key, no check, a destination sealed: stops');
like($err, qr/is not the key the 0 encrypted tokens and 1 destinations/,
    '... saying so');
open($fh, '>', $dkey) or die "key: $!";
print $fh $dgood;
close($fh);
$d->start;
ok($d->alive, 'the right key starts again');
$d->stop;

# Two commands setting up a new store at once, each with a key file of
# its own (run from two directories): one key wins, the other command is
# refused and leaves no key file behind.
for my $round (1 .. 4) {
    my $n = FerryTest->new(config => "[security]\n"
          . "allow_private_destinations = true\n");
    my $ndev = $n->developer("race-$round");
    my @pids;
    for my $side (1, 2) {
        (my $conf = FerryTest::slurp($n->conf))
          =~ s/^key_file = .*$/key_file = ${\ $n->dir }\/k$side.key/m;
        open(my $cf, '>', $n->dir . "/c$side.conf") or die "conf: $!";
        print $cf $conf;
        close($cf);
        my $pid = fork();
        if ($pid == 0) {
            %ENV = $n->child_env;
            open(STDERR, '>', $n->dir . "/e$side");
            open(STDOUT, '>', '/dev/null');
            exec(FerryTest::bin(), 'destination', 'add', $ndev->{dev_id},
                'webhook', "http://127.0.0.1:9/side$side", '--config',
                $n->dir . "/c$side.conf");
        }
        push @pids, $pid;
    }
    my $ok = 0;
    for my $pid (@pids) {
        waitpid($pid, 0);
        $ok++ if $? == 0;
    }
    my @keys = grep { -e } map { $n->dir . "/k$_.key" } 1, 2;
    is($ok, 1, "race $round: one command sets the store up");
    is(scalar @keys, 1, '... one key file is left');
    is($n->sql('select count(*) from destinations'), 1,
        '... with the one destination');
}

done_testing;

# Start `serve` expecting it to fail: (exit code, stderr).
sub serve_error {
    my ($t) = @_;
    my $pid = fork();
    if ($pid == 0) {
        %ENV = $t->child_env;
        open(STDERR, '>', $t->dir . '/serve.err');
        open(STDOUT, '>', '/dev/null');
        exec(FerryTest::bin(), 'serve', '--config', $t->conf);
    }
    waitpid($pid, 0);
    return ($? >> 8, FerryTest::slurp($t->dir . '/serve.err'));
}

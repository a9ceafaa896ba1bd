# FerryPg - a throwaway PostgreSQL server for a test.
#
#   my $pg = FerryPg->new;            # initdb, start, role and database
#   my $url = $pg->url;               # postgresql://ferry@127.0.0.1:PORT/..
#   my @rows = $pg->psql('SELECT user_id, state FROM ferry_users');
#   $pg->stop; ... $pg->start;        # the same data directory and port
#   undef $pg;                        # stops it (its directory goes at exit)
#
# The server is Debian's PostgreSQL (/usr/lib/postgresql/<version>/bin),
# run from a temporary directory that holds the data directory, the log
# and the Unix socket (so the package's own cluster and its socket in
# /run/postgresql are never touched). Run as root, the server runs as
# the `postgres` user through runuser, since PostgreSQL refuses root.
# It listens on 127.0.0.1 only, at a free port other than 5432, with
# trust authentication. new() makes a login role (option user, default
# 'ferry'; not a superuser) owning the test database (option db,
# default 'ferry_dest'); with option password that role must give it
# (SCRAM) over TCP, while the superuser psql() runs as keeps trust.
package FerryPg;

use strict;
use warnings;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use Scalar::Util qw(weaken);

# Every server still running; END stops them before File::Temp (whose
# END block runs after this one) removes their directories.
my @live;

# What psql prints for SQL NULL; psql() turns it into undef.
my $NULL = "\x{1}NULL\x{1}";

# The bin directory of the newest installed server, 15 preferred.
sub bindir {
    return $ENV{TEST_PG_BINDIR} if defined $ENV{TEST_PG_BINDIR};
    return '/usr/lib/postgresql/15/bin'
      if -x '/usr/lib/postgresql/15/bin/postgres';
    my @dirs = sort { ($b =~ /(\d+)/)[0] <=> ($a =~ /(\d+)/)[0] }
      grep { -x "$_/postgres" } glob('/usr/lib/postgresql/*/bin');
    return $dirs[0];
}

# 1 when a server and psql can be run here (tests skip otherwise).
sub available {
    my $dir = bindir();
    return 0 unless defined $dir && -x "$dir/initdb" && -x "$dir/pg_ctl";
    return 0 unless -x "$dir/psql" || -x '/usr/bin/psql';
    return 0 if $> == 0 && !defined getpwnam('postgres');
    return 1;
}

sub new {
    my ($class, %o) = @_;
    my $dir = tempdir('ferry-pg-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $self = bless {
        dir      => $dir,
        bin      => bindir(),
        db       => $o{db} // 'ferry_dest',
        user     => $o{user} // 'ferry',
        password => $o{password},
        running  => 0,
    }, $class;
    die "no PostgreSQL server installed\n" unless available();
    if ($> == 0) {
        my (undef, undef, $uid, $gid) = getpwnam('postgres');
        chown($uid, $gid, $dir) or die "chown $dir: $!";
    }
    $self->as_server('initdb', '-D', "$dir/data", '-U', 'postgres',
        '-A', 'trust', '-E', 'UTF8', '--no-locale', '--no-sync')
      or die "initdb failed:\n" . slurp("$dir/cmd.log");
    if (defined $self->{password}) {
        # the superuser (psql()) keeps trust; the test role needs its
        # password over TCP
        open(my $fh, '>', "$dir/data/pg_hba.conf") or die "pg_hba: $!";
        print $fh "local all all trust\n",
          "host all postgres 127.0.0.1/32 trust\n",
          "host all all 127.0.0.1/32 scram-sha-256\n";
        close($fh);
        chown((getpwnam('postgres'))[2, 3], "$dir/data/pg_hba.conf")
          if $> == 0;
    }
    $self->{port} = free_port();
    push @live, $self;
    weaken($live[-1]);
    $self->start;
    my $pw = defined $self->{password}
      ? " PASSWORD '" . ($self->{password} =~ s/'/''/gr) . "'" : '';
    $self->psql_admin("CREATE ROLE $self->{user} LOGIN$pw");
    $self->psql_admin("CREATE DATABASE $self->{db} OWNER $self->{user}");
    return $self;
}

sub dir      { $_[0]{dir} }
sub port     { $_[0]{port} }
sub db       { $_[0]{db} }
sub user     { $_[0]{user} }
sub password { $_[0]{password} }

# A postgresql:// URL for the test database at 127.0.0.1; options user
# (default: the role that owns the database), password (default: the
# role's, if it has one), db.
sub url {
    my ($self, %o) = @_;
    my $user = $o{user} // $self->{user};
    $o{password} = $self->{password} unless exists $o{password};
    my $auth = defined $o{password} ? "$user:$o{password}" : $user;
    my $db = $o{db} // $self->{db};
    return "postgresql://$auth\@127.0.0.1:$self->{port}/$db";
}

# A port on 127.0.0.1 nobody listens on just now, never 5432.
sub free_port {
    for (1 .. 20) {
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => 0, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
          or die "no free port: $!";
        my $port = $s->sockport;
        close($s);
        return $port if $port != 5432;
    }
    die "no free port other than 5432\n";
}

# Run a server binary (as `postgres` when we are root), its output in
# cmd.log. True when it exited 0.
sub as_server {
    my ($self, $prog, @args) = @_;
    my @cmd = ("$self->{bin}/$prog", @args);
    unshift @cmd, 'runuser', '-u', 'postgres', '--' if $> == 0;
    my $log = "$self->{dir}/cmd.log";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDIN, '<', '/dev/null');
        open(STDOUT, '>', $log) or die "cmd.log: $!";
        open(STDERR, '>&', \*STDOUT);
        chdir($self->{dir});
        # the server must not take settings meant for another cluster
        delete $ENV{$_} for grep { /^PG/ } keys %ENV;
        exec(@cmd) or die "exec $cmd[0]: $!";
    }
    waitpid($pid, 0);
    return $? == 0;
}

# Start the server (again) on the same port; waits until it accepts.
sub start {
    my ($self) = @_;
    return if $self->{running};
    my $opts = "-h 127.0.0.1 -p $self->{port} -k $self->{dir} -c fsync=off";
    $self->as_server('pg_ctl', '-D', "$self->{dir}/data", '-l',
        "$self->{dir}/server.log", '-o', $opts, '-w', '-t', '30', 'start')
      or die "pg_ctl start failed:\n" . slurp("$self->{dir}/cmd.log")
      . slurp("$self->{dir}/server.log");
    $self->{running} = 1;
}

# Stop the server (fast: open sessions are ended) and wait for it.
sub stop {
    my ($self) = @_;
    return unless $self->{running};
    $self->as_server('pg_ctl', '-D', "$self->{dir}/data", '-m', 'fast',
        '-w', '-t', '30', 'stop')
      or die "pg_ctl stop failed:\n" . slurp("$self->{dir}/cmd.log");
    $self->{running} = 0;
}

sub running { $_[0]{running} }

# What the server logged so far.
sub log_text { slurp("$_[0]{dir}/server.log") }

# Run `sql` (one statement or several) in the test database as the
# superuser. In list context the rows, each an array reference of
# column values (undef for NULL); in scalar context the first column
# of the first row. Dies on an SQL error.
sub psql {
    my ($self, $sql, %o) = @_;
    my $out = $self->run_psql($o{db} // $self->{db}, $sql);
    my @rows;
    # no output is no rows (so is one row of one empty string)
    for my $line ($out eq '' ? () : split /\x1e/, $out, -1) {
        push @rows,
          [ map { $_ eq $NULL ? undef : $_ } split /\x1f/, $line, -1 ];
    }
    return @rows if wantarray;
    return @rows ? $rows[0][0] : undef;
}

# psql() in the maintenance database `postgres`.
sub psql_admin {
    my ($self, $sql) = @_;
    return $self->psql($sql, db => 'postgres');
}

# psql with unaligned output: fields split by 0x1f, rows by 0x1e.
sub run_psql {
    my ($self, $db, $sql) = @_;
    my $psql = -x "$self->{bin}/psql" ? "$self->{bin}/psql" : 'psql';
    my @cmd = ($psql, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
        '-h', '127.0.0.1', '-p', $self->{port}, '-U', 'postgres',
        '-d', $db, '-F', "\x1f", '-R', "\x1e", '-P', "null=$NULL",
        '-c', $sql);
    my $err = "$self->{dir}/psql.err";
    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open(STDERR, '>', $err);
        delete $ENV{$_} for grep { /^PG/ } keys %ENV;
        $ENV{PGCONNECT_TIMEOUT} = 10;
        exec(@cmd) or die "exec psql: $!";
    }
    local $/;
    my $out = <$fh> // '';
    close($fh);
    die "psql failed ($?): $sql\n" . slurp($err) if $? != 0;
    $out =~ s/\n\z//;    # psql ends its output with a newline
    return $out;
}

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or return '';
    local $/;
    return <$fh> // '';
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    eval { $self->stop };
}

END {
    local ($?, $@, $!);
    for my $pg (grep { defined } @live) {
        eval { $pg->stop };
    }
}

1;

# FerryTest - start the real ferry binary and talk to it over HTTP.
#
#   my $f = FerryTest->new(config => "[provider sandbox]\n");
#   $f->start;
#   my $r = $f->request(POST => '/v2/...', headers => {...}, body => '{}');
#   is($r->{status}, 200);
#   $f->stop;           # fails the test on a non-zero exit or a
#                       # sanitizer report in the server's stderr
#
# Each instance has its own temporary directory with the config file,
# the SQLite store, the key file and the server's stderr. The server
# listens on 127.0.0.1 port 0; the chosen port is read from its
# `event=listening` log line. TEST_FERRY_BIN names the binary.
package FerryTest;

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Temp qw(tempdir);
use HTTP::Tiny;
use JSON::PP;
use POSIX qw(:sys_wait_h);
use Test::More;
use Time::HiRes qw(sleep time);

our $JSON = JSON::PP->new->canonical->allow_nonref;

# A server may close a socket the test is still writing to (a body over
# the limit, a header block too big): that is an answer, not a crash of
# the test, so a write to a closed socket returns EPIPE instead.
$SIG{PIPE} = 'IGNORE';

sub bin {
    return $ENV{TEST_FERRY_BIN} // abs_path('ferry');
}

sub new {
    my ($class, %o) = @_;
    my $dir = tempdir('ferry-test-XXXXXX', TMPDIR => 1, CLEANUP => 1);
    my $self = bless { dir => $dir, pid => undef, %o }, $class;
    $self->{conf} = "$dir/ferry.conf";
    my $conf = "[server]\nlisten = 127.0.0.1:0\n"
      . "[store]\nurl = sqlite:$dir/ferry.db\n"
      . "[security]\nkey_file = $dir/ferry.key\n"
      . ($o{config} // "[provider sandbox]\n");
    open(my $fh, '>', $self->{conf}) or die "write config: $!";
    print $fh $conf;
    close($fh);
    # admin commands open only a store that is there, so one is made
    # (no_store => 1 leaves it to the test); a configuration that stops
    # start-up fails here too, and the test sees it on its own commands
    $self->cli('migrate') unless $o{no_store};
    return $self;
}

sub dir  { $_[0]{dir} }
sub conf { $_[0]{conf} }
sub base { $_[0]{base} }
sub log_path { "$_[0]{dir}/stderr.log" }

# The environment for the child: no FERRY_ variable leaks in from ours.
sub child_env {
    my ($self, %extra) = @_;
    my %env = map { $_ => $ENV{$_} } grep { !/^FERRY_/ } keys %ENV;
    return (%env, %extra);
}

sub start {
    my ($self, %o) = @_;
    my $log = $self->log_path;
    my %env = $self->child_env(%{ $o{env} // {} });
    # a restarted instance appends to its logs: look only at what is new
    $self->{log_from} = -s $log // 0;
    $self->{out_from} = -s "$self->{dir}/stdout.log" // 0;
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        %ENV = %env;
        open(STDERR, '>>', $log) or die "stderr: $!";
        open(STDOUT, '>>', "$self->{dir}/stdout.log") or die "stdout: $!";
        open(STDIN, '<', '/dev/null');
        exec(bin(), $o{command} // 'serve', '--config', $self->{conf})
          or die "exec: $!";
    }
    $self->{pid} = $pid;
    my $deadline = time + 20;
    while (time < $deadline) {
        if (open(my $fh, '<', $log)) {
            local $/;
            my $text = substr(<$fh> // '', $self->{log_from});
            if ($text =~ /event=listening addr=(\S+)/) {
                $self->{addr} = $1;
                $self->{base} = "http://$1";
                return $self;
            }
        }
        if (waitpid($pid, WNOHANG) == $pid) {
            $self->{pid} = undef;
            die "ferry exited before listening:\n" . $self->log_text;
        }
        sleep 0.05;
    }
    die "ferry did not report its address in time:\n" . $self->log_text;
}

# What the server wrote to stderr since it was last started.
sub log_text {
    my ($self) = @_;
    open(my $fh, '<', $self->log_path) or return '';
    local $/;
    return substr(<$fh> // '', $self->{log_from} // 0);
}

# What the server wrote to stdout since it was last started.
sub stdout_text {
    my ($self) = @_;
    return substr(slurp("$self->{dir}/stdout.log"), $self->{out_from} // 0);
}

sub alive {
    my ($self) = @_;
    return defined $self->{pid} && waitpid($self->{pid}, WNOHANG) == 0;
}

# Stop with SIGTERM; the exit must be clean and the log free of
# sanitizer reports.
sub stop {
    my ($self) = @_;
    return unless defined $self->{pid};
    kill 'TERM', $self->{pid};
    my $deadline = time + 20;
    my $done = 0;
    while (time < $deadline) {
        if (waitpid($self->{pid}, WNOHANG) == $self->{pid}) {
            $done = 1;
            last;
        }
        sleep 0.05;
    }
    if (!$done) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
    my $status = $?;
    $self->{pid} = undef;
    my $log = $self->log_text;
    ok($done && $status == 0, 'server stopped cleanly on SIGTERM')
      or diag("exit status $status\n$log");
    unlike($log, qr/AddressSanitizer|LeakSanitizer|runtime error:/,
        'no sanitizer report');
}

# Run a CLI command against this instance's config.
# Returns (exit code, stdout, stderr).
sub cli {
    my ($self, @args) = @_;
    my %env = $self->child_env;
    my $out = "$self->{dir}/cli.out";
    my $err = "$self->{dir}/cli.err";
    my $pid = fork();
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        %ENV = %env;
        open(STDOUT, '>', $out);
        open(STDERR, '>', $err);
        open(STDIN, '<', '/dev/null');
        exec(bin(), @args, '--config', $self->{conf}) or die "exec: $!";
    }
    waitpid($pid, 0);
    my $code = $? >> 8;
    return ($code, slurp($out), slurp($err));
}

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or return '';
    local $/;
    return <$fh> // '';
}

# A developer with a key: returns { dev_id, api_key, key_id }.
sub developer {
    my ($self, $name) = @_;
    my ($code, $out, $err) = $self->cli('developer', 'create',
        $name // 'acme', '--json');
    die "developer create failed: $err" if $code != 0;
    return $JSON->decode($out);
}

# One HTTP request. Returns { status, headers, body, json }.
sub request {
    my ($self, $method, $path, %o) = @_;
    my $http = HTTP::Tiny->new(timeout => 30, keep_alive => 0);
    my %args = (headers => $o{headers} // {});
    $args{content} = $o{body} if defined $o{body};
    my $res = $http->request($method, $self->{base} . $path, \%args);
    my $json;
    if (defined $res->{content} && length $res->{content}) {
        $json = eval { $JSON->decode($res->{content}) };
    }
    return {
        status  => $res->{status},
        headers => $res->{headers},
        body    => $res->{content},
        json    => $json,
    };
}

# Run `query` with the sqlite3 CLI on the store beside the server; it
# waits up to 10 s for the server's writer (a busy store is not an
# error here). Returns what it prints, the last newline cut.
sub sql {
    my ($self, $query) = @_;
    open(my $fh, '-|', 'sqlite3', '-cmd', '.timeout 10000',
        "$self->{dir}/ferry.db", $query)
      or die "sqlite3: $!";
    local $/;
    my $out = <$fh> // '';
    close($fh);
    $out =~ s/\n\z//;
    return $out;
}

# Check the combined JSON error body of SPEC section 3.
sub is_error {
    my ($r, $status, $pattern, $name) = @_;
    my $j = $r->{json} // {};
    my $ok = $r->{status} == $status
      && ($j->{status} // '') eq 'error'
      && defined $j->{message}
      && ($j->{type} // '') eq 'about:blank'
      && defined $j->{title}
      && defined $j->{detail}
      && defined $j->{instance}
      && ($r->{headers}{'content-type'} // '') =~ m{^application/json}
      && (!defined $pattern || $j->{message} =~ $pattern);
    ok($ok, $name) or diag("status $r->{status}: " . ($r->{body} // ''));
    return $ok;
}

# ---- the connect flow, as a browser without JavaScript walks it ----

# One HTTP request to a path of this instance or to an absolute URL,
# without following redirects (a browser's view of each hop). `form`
# (a hash or an array of pairs) is sent form-encoded. Returns what
# request() returns plus `location` and `query` (the Location header and
# its query parameters).
sub fetch {
    my ($self, $method, $url, %o) = @_;
    $url = $self->{base} . $url if $url =~ m{^/};
    my $http = HTTP::Tiny->new(timeout => $o{timeout} // 30,
        keep_alive => 0, max_redirect => 0);
    my %headers = %{ $o{headers} // {} };
    my %args = (headers => \%headers);
    if (defined $o{form}) {
        $args{content} = form_encode($o{form});
        $headers{'content-type'} //= 'application/x-www-form-urlencoded';
    } elsif (defined $o{body}) {
        $args{content} = $o{body};
    }
    my $res = $http->request($method, $url, \%args);
    my $json;
    if (defined $res->{content} && length $res->{content}) {
        $json = eval { $JSON->decode($res->{content}) };
    }
    my $location = $res->{headers}{location};
    return {
        status   => $res->{status},
        headers  => $res->{headers},
        body     => $res->{content},
        json     => $json,
        location => $location,
        query    => defined $location ? query_params($location) : undef,
    };
}

# `pairs` (a hash or an array of name, value) as a form body.
sub form_encode {
    my ($pairs) = @_;
    my @kv = ref $pairs eq 'HASH' ? map { ($_, $pairs->{$_}) } sort keys %$pairs
      : @$pairs;
    my @out;
    while (@kv) {
        my ($k, $v) = splice(@kv, 0, 2);
        push @out, uri_escape($k) . '=' . uri_escape($v);
    }
    return join('&', @out);
}

sub uri_escape {
    my ($s) = @_;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord($1))/ge;
    return $s;
}

sub uri_unescape {
    my ($s) = @_;
    $s =~ tr/+/ /;
    $s =~ s/%([0-9A-Fa-f]{2})/chr(hex($1))/ge;
    return $s;
}

# The query parameters of `url` (before any fragment) as a hash; a name
# given more than once keeps every value, in an array.
sub query_params {
    my ($url) = @_;
    my ($q) = $url =~ /\?([^#]*)/;
    my %p;
    for my $pair (split /&/, $q // '') {
        next if $pair eq '';
        my ($k, $v) = split /=/, $pair, 2;
        $k = uri_unescape($k);
        $v = uri_unescape($v // '');
        if (exists $p{$k}) {
            $p{$k} = [ ref $p{$k} ? @{ $p{$k} } : $p{$k}, $v ];
        } else {
            $p{$k} = $v;
        }
    }
    return \%p;
}

# The value of the hidden input `name` in the HTML page `html`, or undef.
sub hidden_value {
    my ($html, $name) = @_;
    return undef unless defined $html;
    my ($v) = $html =~ /<input type="hidden" name="\Q$name\E" value="([^"]*)"/;
    return undef unless defined $v;
    $v =~ s/&quot;/"/g;
    $v =~ s/&#39;/'/g;
    $v =~ s/&lt;/</g;
    $v =~ s/&gt;/>/g;
    $v =~ s/&amp;/&/g;
    return $v;
}

# The headers of `dev` (from developer()) for the /v2 API.
sub auth_headers {
    my ($dev) = @_;
    return { 'dev-id' => $dev->{dev_id}, 'x-api-key' => $dev->{api_key} };
}

# POST /v2/auth/authenticateUser for `dev` with the JSON `body` (a hash;
# undef sends none) and `resource` in the query (undef: none).
sub authenticate_user {
    my ($self, $dev, $resource, $body) = @_;
    my $path = '/v2/auth/authenticateUser';
    $path .= '?resource=' . uri_escape($resource) if defined $resource;
    return $self->fetch(POST => $path, headers => auth_headers($dev),
        body => defined $body ? $JSON->encode($body) : undef);
}

# Sign in at the SANDBOX provider's authorize URL `url` as `username`
# and answer the consent page with `decision` ('allow' or 'deny').
# Returns the answer to the consent form: a 302 to ferry's callback.
sub sandbox_authorize {
    my ($self, $url, $username, $decision) = @_;
    my $r = $self->fetch(GET => $url);
    die "sandbox login page: $r->{status}\n" . ($r->{body} // '')
      if $r->{status} != 200;
    my $action = $self->{base} . '/sandbox/oauth/authorize';
    $r = $self->fetch(POST => $action, form => [ step => 'login',
        request => hidden_value($r->{body}, 'request'),
        username => $username ]);
    die "sandbox consent page: $r->{status}\n" . ($r->{body} // '')
      if $r->{status} != 200;
    return $self->fetch(POST => $action, form => [ step => 'consent',
        request => hidden_value($r->{body}, 'request'),
        decision => $decision // 'allow' ]);
}

# A whole direct (authenticateUser) connection at SANDBOX for `dev`:
# options username (default 'alice'), decision ('allow'), and body (the
# authenticateUser fields). Returns { user_id (the reserved id), auth
# (the API answer), start (the start link's answer), callback (its URL),
# final (the callback's answer) }.
sub connect_sandbox {
    my ($self, $dev, %o) = @_;
    my %out;
    $out{auth} = $self->authenticate_user($dev, 'SANDBOX', $o{body} // {});
    die "authenticateUser: $out{auth}{status} " . ($out{auth}{body} // '')
      if $out{auth}{status} != 200;
    $out{user_id} = $out{auth}{json}{user_id};
    $out{start} = $self->fetch(GET => $out{auth}{json}{auth_url});
    die "start link: $out{start}{status}" if $out{start}{status} != 302;
    my $consent = $self->sandbox_authorize($out{start}{location},
        $o{username} // 'alice', $o{decision} // 'allow');
    die "consent: $consent->{status}" if $consent->{status} != 302;
    $out{callback} = $consent->{location};
    $out{final} = $self->fetch(GET => $out{callback});
    return \%out;
}

# `ferry events list --json` with `args`, decoded (undef on failure).
sub events {
    my ($self, @args) = @_;
    my ($code, $out, $err) = $self->cli('events', 'list', '--json', @args);
    return undef if $code != 0;
    return eval { $JSON->decode($out) };
}

# `ferry users list --json` with `args`, decoded (undef on failure).
sub users {
    my ($self, @args) = @_;
    my ($code, $out, $err) = $self->cli('users', 'list', '--json', @args);
    return undef if $code != 0;
    return eval { $JSON->decode($out) };
}

sub DESTROY {
    my ($self) = @_;
    if (defined $self->{pid}) {
        kill 'KILL', $self->{pid};
        waitpid($self->{pid}, 0);
    }
}

1;

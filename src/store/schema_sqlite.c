/*
 * schema_sqlite.c - the SQLite schema, as an ordered list of migrations.
 *
 * Each entry is applied once, in order, in its own transaction, and
 * recorded in schema_migrations (sqlite.c does that). A migration is
 * never edited after release: a change is a new entry at the end.
 *
 * The data model is meant to map 1:1 to PostgreSQL: ids are TEXT, times
 * are INTEGER unix microseconds (BIGINT), hashes and sealed secrets are
 * BLOB (BYTEA), JSON documents are TEXT (JSONB), flags are INTEGER 0/1.
 * STRICT makes SQLite refuse a value of the wrong type, as PostgreSQL
 * would; it is the only SQLite-specific word in the scripts besides
 * AUTOINCREMENT (an identity column there). docs/internals/store.md
 * explains each table.
 */
#include "store/backend.h"

static const char schema_v1[] =
    /* Tenants: each developer sees only its own rows. */
    "CREATE TABLE developers ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX developers_name ON developers (name, created_at, id);"

    /* API keys, stored as SHA-256 hashes only. */
    "CREATE TABLE api_keys ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " hash BLOB NOT NULL UNIQUE,"
    " hint TEXT,"
    " created_at INTEGER NOT NULL,"
    " revoked_at INTEGER"
    ") STRICT;"
    "CREATE INDEX api_keys_dev ON api_keys (dev_id, created_at, id);"
    "CREATE INDEX api_keys_active ON api_keys (dev_id, hash)"
    " WHERE revoked_at IS NULL;"

    /* Link sessions: widget links and authenticateUser links. */
    "CREATE TABLE sessions ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " kind TEXT NOT NULL CHECK (kind IN ('widget', 'direct')),"
    " token_hash BLOB NOT NULL UNIQUE,"
    " reference_id TEXT,"
    " providers TEXT,"
    " language TEXT,"
    " success_url TEXT,"
    " failure_url TEXT,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " completed_at INTEGER,"
    " user_id TEXT,"
    " resource TEXT"
    ") STRICT;"
    "CREATE INDEX sessions_expires ON sessions (expires_at);"

    /* Users: one provider account of one end user for one developer. */
    "CREATE TABLE users ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " provider TEXT NOT NULL,"
    " provider_user_id TEXT NOT NULL,"
    " reference_id TEXT,"
    " session_id TEXT REFERENCES sessions (id) ON DELETE SET NULL,"
    " state TEXT NOT NULL DEFAULT 'connected'"
    "  CHECK (state IN ('connected', 'needs_reauth', 'deauthorized')),"
    " active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),"
    " scopes TEXT,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " last_webhook_update INTEGER,"
    " last_polled_at INTEGER,"
    " most_recent_data_at INTEGER"
    ") STRICT;"
    "CREATE INDEX users_dev_ref ON users (dev_id, reference_id);"
    "CREATE INDEX users_dev_provider"
    " ON users (dev_id, provider, provider_user_id);"
    "CREATE INDEX users_session ON users (session_id);"
    "CREATE INDEX users_poll ON users (last_polled_at)"
    " WHERE active = 1 AND state = 'connected';"

    /* Provider grants, sealed with AES-256-GCM by the caller. */
    "CREATE TABLE tokens ("
    " user_id TEXT NOT NULL PRIMARY KEY"
    "  REFERENCES users (id) ON DELETE CASCADE,"
    " sealed BLOB NOT NULL,"
    " expires_at INTEGER,"
    " refreshed_at INTEGER,"
    " refresh_lock_until INTEGER"
    ") STRICT;"
    "CREATE INDEX tokens_expires ON tokens (expires_at);"

    /* Where a developer's events go. */
    "CREATE TABLE destinations ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " kind TEXT NOT NULL,"
    " url TEXT NOT NULL,"
    " config TEXT,"
    " secret BLOB,"
    " previous_secret BLOB,"
    " previous_secret_until INTEGER,"
    " created_at INTEGER NOT NULL,"
    " removed_at INTEGER"
    ") STRICT;"
    "CREATE INDEX destinations_dev ON destinations (dev_id, removed_at);"

    /* The outbox: every event, in creation order. */
    "CREATE TABLE events ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " user_id TEXT REFERENCES users (id) ON DELETE SET NULL,"
    " type TEXT NOT NULL,"
    " reference TEXT,"
    " body TEXT NOT NULL,"
    " created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX events_dev ON events (dev_id, seq);"
    "CREATE INDEX events_user ON events (user_id, seq);"

    /* One row per (event, destination): the delivery state machine. */
    "CREATE TABLE deliveries ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " event_id TEXT NOT NULL REFERENCES events (id),"
    " destination_id TEXT NOT NULL REFERENCES destinations (id),"
    " state TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK (state IN ('pending', 'in_flight', 'delivered', 'dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " lease_owner TEXT,"
    " lease_until INTEGER,"
    " last_status INTEGER,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE (event_id, destination_id)"
    ") STRICT;"
    "CREATE INDEX deliveries_claim ON deliveries (state, next_attempt_at);"
    "CREATE INDEX deliveries_destination"
    " ON deliveries (destination_id, state);"

    /* Each HTTP attempt of a delivery, for listing and debugging. */
    "CREATE TABLE delivery_attempts ("
    " delivery_id TEXT NOT NULL"
    "  REFERENCES deliveries (id) ON DELETE CASCADE,"
    " n INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " status INTEGER,"
    " latency_us INTEGER,"
    " error TEXT,"
    " PRIMARY KEY (delivery_id, n)"
    ") STRICT;"

    /* Background work (backfill, polling, refresh, revoke) in two lanes. */
    "CREATE TABLE jobs ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " user_id TEXT REFERENCES users (id) ON DELETE CASCADE,"
    " kind TEXT NOT NULL,"
    " lane TEXT NOT NULL CHECK (lane IN ('auth', 'data')),"
    " payload TEXT,"
    " state TEXT NOT NULL DEFAULT 'pending'"
    "  CHECK (state IN ('pending', 'running', 'done', 'dead')),"
    " run_at INTEGER NOT NULL,"
    " lease_owner TEXT,"
    " lease_until INTEGER,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX jobs_claim ON jobs (lane, state, run_at);"
    "CREATE INDEX jobs_dev ON jobs (dev_id);"
    "CREATE INDEX jobs_user ON jobs (user_id);";

static const char schema_v2[] =
    /* Each provider pick on a link: the OAuth state of one login. */
    "CREATE TABLE auth_attempts ("
    " state_hash BLOB NOT NULL PRIMARY KEY,"
    " session_id TEXT NOT NULL REFERENCES sessions (id),"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " resource TEXT NOT NULL,"
    " user_id TEXT NOT NULL,"
    " verifier BLOB,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " used_at INTEGER"
    ") STRICT;"
    "CREATE INDEX auth_attempts_session ON auth_attempts (session_id);"
    "CREATE INDEX auth_attempts_expires ON auth_attempts (expires_at);"
    "CREATE INDEX users_dev_created ON users (dev_id, created_at, id);"
    "CREATE INDEX events_type ON events (type, seq);"

    /* The SANDBOX provider's authorization server: codes and tokens,
     * kept as hashes. */
    "CREATE TABLE sandbox_codes ("
    " hash BLOB NOT NULL PRIMARY KEY,"
    " client_id TEXT NOT NULL,"
    " account TEXT NOT NULL,"
    " redirect_uri TEXT NOT NULL,"
    " scope TEXT,"
    " challenge TEXT,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " used_at INTEGER"
    ") STRICT;"
    "CREATE INDEX sandbox_codes_expires ON sandbox_codes (expires_at);"
    "CREATE TABLE sandbox_tokens ("
    " hash BLOB NOT NULL PRIMARY KEY,"
    " kind TEXT NOT NULL CHECK (kind IN ('access', 'refresh')),"
    " client_id TEXT NOT NULL,"
    " account TEXT NOT NULL,"
    " scope TEXT,"
    " family TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " expires_at INTEGER NOT NULL,"
    " revoked_at INTEGER"
    ") STRICT;"
    "CREATE INDEX sandbox_tokens_family ON sandbox_tokens (family);"
    "CREATE INDEX sandbox_tokens_account ON sandbox_tokens (account);";

static const char schema_v3[] =
    /* Small values of the deployment: the master key's check value. */
    "CREATE TABLE settings ("
    " name TEXT NOT NULL PRIMARY KEY,"
    " value BLOB NOT NULL"
    ") STRICT;";

/*
 * Delivery. The tables of the first schema were never written to; they
 * are made again in their working form. Adding an event adds its
 * deliveries (the trigger), so no code path can record an event and
 * forget to queue it. Per destination and user (order_key) only the
 * head -- the oldest delivery still queued -- may be claimed.
 */
static const char schema_v4[] =
    "DROP TABLE delivery_attempts;"
    "DROP TABLE deliveries;"
    "DROP TABLE destinations;"
    "CREATE TABLE destinations ("
    " id TEXT NOT NULL PRIMARY KEY,"
    " dev_id TEXT NOT NULL REFERENCES developers (id),"
    " kind TEXT NOT NULL,"
    " url TEXT NOT NULL,"
    " conf BLOB NOT NULL,"
    " secret BLOB NOT NULL,"
    " previous_secret BLOB,"
    " previous_until INTEGER,"
    " created_at INTEGER NOT NULL,"
    " removed_at INTEGER"
    ") STRICT;"
    "CREATE INDEX destinations_dev ON destinations (dev_id, removed_at);"
    "CREATE TABLE deliveries ("
    " id INTEGER PRIMARY KEY,"
    " event_seq INTEGER NOT NULL,"
    " event_id TEXT NOT NULL REFERENCES events (id),"
    " destination_id TEXT NOT NULL REFERENCES destinations (id),"
    " order_key TEXT NOT NULL,"
    " lane INTEGER NOT NULL,"
    " head INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight',"
    "  'delivered', 'dead', 'cancelled')),"
    " retry INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " lease_owner TEXT,"
    " lease_until INTEGER,"
    " last_status INTEGER,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE (event_id, destination_id)"
    ") STRICT;"
    "CREATE INDEX deliveries_due ON deliveries"
    " (destination_id, lane, next_attempt_at)"
    " WHERE head = 1 AND state = 'pending';"
    "CREATE INDEX deliveries_leased ON deliveries"
    " (destination_id, lease_until) WHERE state = 'in_flight';"
    "CREATE INDEX deliveries_open ON deliveries"
    " (destination_id, order_key, event_seq)"
    " WHERE state IN ('pending', 'in_flight');"
    "CREATE INDEX deliveries_state ON deliveries (state, event_seq);"
    "CREATE TABLE delivery_attempts ("
    " delivery_id INTEGER NOT NULL"
    "  REFERENCES deliveries (id) ON DELETE CASCADE,"
    " n INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " status INTEGER,"
    " latency_us INTEGER,"
    " error TEXT,"
    " PRIMARY KEY (delivery_id, n)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TRIGGER events_fan_out AFTER INSERT ON events BEGIN"
    " INSERT INTO deliveries (event_seq, event_id, destination_id,"
    "  order_key, lane, head, state, next_attempt_at, created_at,"
    "  updated_at)"
    " SELECT NEW.seq, NEW.id, d.id, coalesce(NEW.user_id, NEW.id),"
    "  CASE WHEN NEW.type IN ('auth', 'deauth', 'user_reauth',"
    "   'access_revoked', 'connection_error', 'permission_change',"
    "   'google_no_datasource') THEN 0 ELSE 1 END,"
    "  NOT EXISTS (SELECT 1 FROM deliveries p"
    "   WHERE p.destination_id = d.id"
    "   AND p.order_key = coalesce(NEW.user_id, NEW.id)"
    "   AND p.state IN ('pending', 'in_flight')),"
    "  'pending', NEW.created_at, NEW.created_at, NEW.created_at"
    " FROM destinations d"
    " WHERE d.dev_id = NEW.dev_id AND d.removed_at IS NULL;"
    "END;";

/*
 * Provider data: normalised records, the days fetched per type, and what
 * a new user starts (a backfill, the adapter's after-connect steps) added
 * by a trigger in the transaction that makes the user.
 */
static const char schema_v5[] =
    "CREATE TABLE records ("
    " user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " type TEXT NOT NULL,"
    " key TEXT NOT NULL,"
    " start_at INTEGER NOT NULL,"
    " end_at INTEGER NOT NULL,"
    " local_date TEXT,"
    " hash BLOB NOT NULL,"
    " data TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " PRIMARY KEY (user_id, type, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE INDEX records_range ON records (user_id, type, start_at);"
    "CREATE TABLE synced_days ("
    " user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
    " type TEXT NOT NULL,"
    " day INTEGER NOT NULL,"
    " PRIMARY KEY (user_id, type, day)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE UNIQUE INDEX jobs_one_open ON jobs (user_id, kind)"
    " WHERE state IN ('pending', 'running')"
    " AND kind IN ('backfill', 'poll', 'refresh');"
    "CREATE INDEX jobs_due ON jobs (lane, run_at) WHERE state = 'pending';"
    "CREATE INDEX jobs_leased ON jobs (lane, lease_until)"
    " WHERE state = 'running';"
    "CREATE INDEX users_provider_id ON users (provider, provider_user_id);"
    "CREATE INDEX deliveries_seq ON deliveries (event_seq, id);"
    "CREATE INDEX deliveries_heads ON deliveries (destination_id, order_key)"
    " WHERE head = 1 AND state IN ('pending', 'in_flight');"
    "CREATE TRIGGER users_start AFTER INSERT ON users BEGIN"
    " INSERT INTO jobs (id, dev_id, user_id, kind, lane, state, run_at,"
    "  created_at) VALUES (lower(hex(randomblob(16))), NEW.dev_id, NEW.id,"
    "  'connected', 'auth', 'pending', NEW.created_at, NEW.created_at);"
    " INSERT INTO jobs (id, dev_id, user_id, kind, lane, state, run_at,"
    "  created_at) VALUES (lower(hex(randomblob(16))), NEW.dev_id, NEW.id,"
    "  'backfill', 'data', 'pending', NEW.created_at, NEW.created_at);"
    "END;";

/*
 * Whether the stored version of a record has reached the developer's
 * destinations: records fetched to answer a data request are stored
 * without events, and the next backfill, poll or push that sees them
 * announces them (store_records_put). 0 never announced, 1 this version
 * announced, 2 an older version was. Rows before this were all
 * announced.
 */
static const char schema_v6[] =
    "ALTER TABLE records ADD COLUMN announced INTEGER NOT NULL DEFAULT 1"
    " CHECK (announced IN (0, 1, 2));"
    /* A replay of dead deliveries used to queue those of removed
     * destinations too, which no engine claims. */
    "UPDATE deliveries SET state = 'cancelled', head = 0,"
    " lease_owner = NULL, lease_until = NULL"
    " WHERE state IN ('pending', 'in_flight') AND destination_id IN"
    " (SELECT id FROM destinations WHERE removed_at IS NOT NULL);";

/*
 * What a data request's events have sent, so that its job, run again
 * (its lease taken over) or twice at once, sends nothing twice: the
 * records its chunks carried (type, key), a row per event it made
 * ('event', type; 'chunk', event id) and, once its last event is in,
 * ('end', ''), which alone is then kept (store_request_event_add).
 */
static const char schema_v7[] = "CREATE TABLE request_sends ("
                                " reference TEXT NOT NULL,"
                                " type TEXT NOT NULL,"
                                " key TEXT NOT NULL,"
                                " PRIMARY KEY (reference, type, key)"
                                ") STRICT, WITHOUT ROWID;";

/*
 * Delivery without a row per pending event. A destination keeps a cursor
 * over its developer's events: an event after the cursor with no
 * delivery row is waiting for its first attempt, and the engine that
 * holds the destination's lease reads it straight from the event log.
 * A delivery row is written when an attempt ends, or when an event has
 * to queue behind its user's earlier one (a retry, a replay, an attempt
 * in flight). The table is made again so that its key is the event's
 * place in the log, which rows are written in. A delivery that succeeds
 * at its first attempt keeps that attempt in its own row (updated_at,
 * last_status, last_latency_us) instead of a delivery_attempts row.
 */
static const char schema_v8[] =
    "DROP TRIGGER events_fan_out;"
    "ALTER TABLE destinations ADD COLUMN cursor_seq INTEGER NOT NULL"
    " DEFAULT 0;"
    "ALTER TABLE destinations ADD COLUMN lease_owner TEXT;"
    "ALTER TABLE destinations ADD COLUMN lease_until INTEGER;"
    "UPDATE destinations SET cursor_seq ="
    " (SELECT coalesce(max(seq), 0) FROM events);"
    "CREATE TABLE deliveries_v8 ("
    " id INTEGER PRIMARY KEY,"
    " event_seq INTEGER NOT NULL,"
    " event_id TEXT NOT NULL,"
    " destination_id TEXT NOT NULL REFERENCES destinations (id),"
    " order_key TEXT NOT NULL,"
    " lane INTEGER NOT NULL,"
    " head INTEGER NOT NULL,"
    " state TEXT NOT NULL CHECK (state IN ('pending', 'in_flight',"
    "  'delivered', 'dead', 'cancelled')),"
    " retry INTEGER NOT NULL DEFAULT 0,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " lease_owner TEXT,"
    " lease_until INTEGER,"
    " last_status INTEGER,"
    " last_error TEXT,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " last_latency_us INTEGER,"
    " UNIQUE (destination_id, event_seq)"
    ") STRICT;"
    "INSERT INTO deliveries_v8 SELECT id, event_seq, event_id,"
    " destination_id, order_key, lane, head, state, retry, attempts,"
    " next_attempt_at, lease_owner, lease_until, last_status, last_error,"
    " created_at, updated_at, NULL FROM deliveries;"
    "CREATE TABLE delivery_attempts_v8 ("
    " delivery_id INTEGER NOT NULL"
    "  REFERENCES deliveries_v8 (id) ON DELETE CASCADE,"
    " n INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " status INTEGER,"
    " latency_us INTEGER,"
    " error TEXT,"
    " PRIMARY KEY (delivery_id, n)"
    ") STRICT, WITHOUT ROWID;"
    "INSERT INTO delivery_attempts_v8 SELECT delivery_id, n, at, status,"
    " latency_us, error FROM delivery_attempts;"
    "DROP TABLE delivery_attempts;"
    "DROP TABLE deliveries;"
    "ALTER TABLE deliveries_v8 RENAME TO deliveries;"
    "ALTER TABLE delivery_attempts_v8 RENAME TO delivery_attempts;"
    "CREATE INDEX deliveries_due ON deliveries"
    " (destination_id, lane, next_attempt_at)"
    " WHERE head = 1 AND state = 'pending';"
    "CREATE INDEX deliveries_leased ON deliveries"
    " (destination_id, lease_until) WHERE state = 'in_flight';"
    "CREATE INDEX deliveries_open ON deliveries"
    " (destination_id, order_key, event_seq)"
    " WHERE state IN ('pending', 'in_flight');"
    "CREATE INDEX deliveries_heads ON deliveries (destination_id, order_key)"
    " WHERE head = 1 AND state IN ('pending', 'in_flight');"
    "CREATE INDEX deliveries_state ON deliveries (state, event_seq);"
    "CREATE INDEX deliveries_seq ON deliveries (event_seq, id);"
    /* the account events of a developer in log order, which a claim
     * looks ahead for (its list is ACCOUNT_TYPES of
     * sqlite_deliveries.c, word for word) */
    "CREATE INDEX events_account ON events (dev_id, seq)"
    " WHERE type IN ('auth', 'deauth', 'user_reauth', 'access_revoked',"
    " 'connection_error', 'permission_change', 'google_no_datasource');";

const struct store_migration store_sqlite_migrations[] = {
    {1, "initial schema", schema_v1},
    {2, "authorization attempts and the sandbox server", schema_v2},
    {3, "settings", schema_v3},
    {4, "delivery", schema_v4},
    {5, "provider data", schema_v5},
    {6, "announced records, stray deliveries cancelled", schema_v6},
    {7, "what data requests sent", schema_v7},
    {8, "delivery cursors", schema_v8},
};

const int store_sqlite_migration_count =
    (int)(sizeof(store_sqlite_migrations) / sizeof(store_sqlite_migrations[0]));

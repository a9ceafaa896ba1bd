/*
 * data.c - the SANDBOX provider's data: the generator and the data API.
 *
 * An account (the hash of its id) fixes a place and its UTC offset, a
 * body (sex, birth date, height, weight, resting heart rate, fitness)
 * and the sports it does. A day (the hash of the id and the date) fixes
 * the day's plan: the night that ends that morning, zero to two
 * workouts in the morning, lunch or evening slot, sometimes a nap. Each
 * workout is simulated every SANDBOX_SAMPLE_SECONDS (speed, then
 * distance as its trapezoid integral, altitude along a closed loop,
 * power, heart rate, steps, calories) and summarised from its samples;
 * each night is a hypnogram of 30-second epochs in sleep cycles with
 * heart rate and HRV every five minutes. The daily summary adds the
 * day's workouts to the steps, calories and heart rate of the rest of
 * the day; the body summary shares the day's resting heart rate and the
 * night's HRV.
 *
 * Units of the answers: seconds, meters, m/s, kcal, bpm, ms, kg,
 * percent (except sleep efficiency, a fraction), degrees.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"
#include "core/codec.h"
#include "core/crypto.h"
#include "core/isotime.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "http/reply.h"
#include "sandbox/data.h"
#include "sandbox/internal.h"
#include "sandbox/sandbox.h"

#define DAY_S     86400LL
#define SAMPLES_N (150 * 60 / SANDBOX_SAMPLE_SECONDS + 1) /* 150 minutes */
#define EPOCHS_N  (11 * 3600 / SANDBOX_EPOCH_SECONDS)     /* 11 hours */

/* Real numbers in answers: enough digits, none of binary's noise. */
#define JSON_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* ---- deterministic numbers ---- */

/* splitmix64: a tiny generator, seeded from a hash, never from a clock */
struct rnd {
    uint64_t s;
};

static void
rnd_seed(struct rnd *r, const char *account_id, const char *date,
         const char *stream)
{
    char in[192];
    unsigned char h[32];
    size_t i = 0;

    snprintf(in, sizeof(in), "%s|%s|%s", account_id, date, stream);
    crypto_sha256(in, strlen(in), h);
    r->s = 0;
    for (i = 0; i < 8; i++) {
        r->s = r->s << 8 | h[i];
    }
}

static uint64_t
rnd_next(struct rnd *r)
{
    uint64_t z = r->s += 0x9e3779b97f4a7c15ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double
rnd_unit(struct rnd *r)
{
    return (double)(rnd_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [lo, hi], integers. */
static int
rnd_int(struct rnd *r, int lo, int hi)
{
    return lo + (int)(rnd_next(r) % (uint64_t)(hi - lo + 1));
}

static double
rnd_real(struct rnd *r, double lo, double hi)
{
    return lo + (hi - lo) * rnd_unit(r);
}

/* In [-1, 1], more often near 0. Each draw is its own statement: the
 * order of a call's arguments or a sum's operands is unspecified. */
static double
rnd_noise(struct rnd *r)
{
    double x = rnd_unit(r);

    x += rnd_unit(r);
    x += rnd_unit(r);
    return (x - 1.5) / 1.5;
}

/* A day number between January 1st of `from` and the 28th of December
 * of `to`, months and days drawn in that order. */
static int
rnd_date(struct rnd *r, int from, int to)
{
    int y = rnd_int(r, from, to);
    int m = rnd_int(r, 1, 12);
    int d = rnd_int(r, 1, 28);

    return (int)isotime_days_from_civil(y, m, d);
}

/* ---- days and times ---- */

static int64_t
floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static double
round_to(double x, double unit)
{
    return round(x / unit) * unit;
}

static int
day_in_range(int64_t day)
{
    return day >= isotime_days_from_civil(1900, 1, 1) &&
           day <= isotime_days_from_civil(9998, 12, 31);
}

/* "YYYY-MM-DD" of `day` (in range). */
static void
day_text(int64_t day, char out[16])
{
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(day, &y, &m, &d);
    snprintf(out, 16, "%04d-%02d-%02d", y % 10000, m, d);
}

/* The local wall time of `t` at `off`: "YYYY-MM-DDTHH:MM:SS+HH:MM". */
static void
time_text(int64_t t, int off, char out[40])
{
    int64_t local = t + off;
    int64_t day = floor_div(local, DAY_S);
    int64_t sec = local - day * DAY_S;
    int a = off < 0 ? -off : off;
    char date[16];

    day_text(day, date);
    snprintf(out, 40, "%sT%02d:%02d:%02d%c%02d:%02d", date, (int)(sec / 3600),
             (int)(sec / 60 % 60), (int)(sec % 60), off < 0 ? '-' : '+',
             a / 3600, a / 60 % 60);
}

static json_t *
time_json(int64_t t, int off)
{
    char s[40];

    time_text(t, off, s);
    return json_string(s);
}

/* ---- the account ---- */

struct place {
    const char *city;
    const char *country;
    int offset; /* seconds east of UTC, all year */
    double lat;
    double lon;
    int alt; /* meters */
};

/* Places without daylight saving time, so one offset holds all year. */
static const struct place places[] = {
    {"Bogota", "CO", -5 * 3600, 4.6533, -74.0836, 2600},
    {"Lagos", "NG", 1 * 3600, 6.5244, 3.3792, 40},
    {"Reykjavik", "IS", 0, 64.1466, -21.9426, 30},
    {"Bengaluru", "IN", 5 * 3600 + 1800, 12.9716, 77.5946, 920},
    {"Tokyo", "JP", 9 * 3600, 35.6762, 139.6503, 40},
    {"Sao Paulo", "BR", -3 * 3600, -23.5505, -46.6333, 760},
    {"Brisbane", "AU", 10 * 3600, -27.4698, 153.0251, 30},
    {"Phoenix", "US", -7 * 3600, 33.4484, -112.0740, 340},
    {"Nairobi", "KE", 3 * 3600, -1.2921, 36.8219, 1790},
    {"Kathmandu", "NP", 5 * 3600 + 2700, 27.7172, 85.3240, 1400},
};

#define NPLACES (sizeof(places) / sizeof(places[0]))

static const char *const female_names[] = {
    "Ada",  "Amara", "Chiara", "Elin", "Freya", "Hana",
    "Ines", "Kavya", "Lucia",  "Maya", "Noor",  "Sofia",
};
static const char *const male_names[] = {
    "Arjun", "Bruno", "Chidi", "Daniel", "Emil", "Hiro",
    "Jonas", "Kofi",  "Luca",  "Mateo",  "Omar", "Tomas",
};
static const char *const last_names[] = {
    "Adeyemi", "Bauer",  "Costa",  "Eriksson", "Fischer", "Garcia",
    "Ito",     "Kamau",  "Moreau", "Novak",    "Okafor",  "Patel",
    "Rossi",   "Sharma", "Silva",  "Tanaka",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum sport_id {
    SP_RUNNING = 0,
    SP_CYCLING,
    SP_WALKING,
    SP_HIKING,
    SP_SWIMMING,
    SP_ROWING,
    SP_STRENGTH,
    SP_YOGA,
    SP_COUNT
};

struct sport {
    const char *name; /* the API's "sport" */
    const char *noun; /* for the title: "Morning run" */
    int min_minutes;
    int max_minutes;
    int v_lo; /* steady speed, cm/s; 0: no distance */
    int v_hi;
    int hr_lo; /* steady heart rate, percent of the maximum */
    int hr_hi;
    int cadence; /* steps a minute; 0: none counted */
    int gps;     /* outdoors: positions and altitude */
    int hills;   /* amplitude of the hills, m */
    int power;   /* 1: a bicycle, 2: a rowing machine, 0: none */
    int pool;    /* laps of a pool */
    int manual;  /* may be entered by hand */
};

static const struct sport sports[SP_COUNT] = {
    {"running", "run", 25, 75, 250, 380, 75, 88, 166, 1, 12, 0, 0, 0},
    {"cycling", "ride", 45, 150, 600, 900, 65, 80, 0, 1, 35, 1, 0, 0},
    {"walking", "walk", 20, 70, 120, 160, 50, 62, 110, 1, 6, 0, 0, 0},
    {"hiking", "hike", 60, 150, 90, 130, 58, 72, 100, 1, 70, 0, 0, 0},
    {"swimming", "swim", 25, 60, 70, 110, 68, 80, 0, 0, 0, 0, 1, 0},
    {"rowing", "row", 20, 45, 360, 450, 72, 85, 0, 0, 0, 2, 0, 0},
    {"strength", "strength session", 30, 60, 0, 0, 55, 70, 0, 0, 0, 0, 0, 1},
    {"yoga", "yoga", 30, 75, 0, 0, 45, 55, 0, 0, 0, 0, 0, 1},
};

struct account {
    const char *id;
    const struct place *place;
    int female;
    int birth; /* day number */
    int height_cm;
    double weight_kg; /* baseline */
    double fat_pct;   /* baseline */
    int rhr;          /* resting heart rate, baseline */
    int hrv;          /* nightly RMSSD, baseline, ms */
    double fitness;   /* 0..1 */
    int steps;        /* a usual day's steps outside workouts */
    int sport[3];     /* what it does, most often first */
    int pool_m;       /* its pool: 25 or 50 m */
    const char *first;
    const char *last;
    char serial[16]; /* its devices' serial numbers' tail */
    int since;       /* member since, the first day of data: day number */
};

static void
account_get(const char *id, struct account *ac)
{
    struct rnd r;
    unsigned char h[32];
    int picked = 0;

    memset(ac, 0, sizeof(*ac));
    rnd_seed(&r, id, "-", "account");
    ac->id = id;
    ac->place = &places[rnd_next(&r) % NPLACES];
    ac->female = rnd_int(&r, 0, 1);
    ac->birth = rnd_date(&r, 1962, 2003);
    ac->height_cm = ac->female ? rnd_int(&r, 155, 180) : rnd_int(&r, 165, 195);
    ac->weight_kg =
        round_to(pow(ac->height_cm / 100.0, 2) * rnd_real(&r, 19.5, 27.5), 0.1);
    ac->fat_pct = ac->female ? rnd_real(&r, 21, 31) : rnd_real(&r, 12, 23);
    ac->fitness = rnd_unit(&r);
    ac->rhr = (int)lround(68 - 16 * ac->fitness + rnd_int(&r, -3, 3));
    ac->hrv = (int)lround(35 + 40 * ac->fitness + rnd_int(&r, -6, 6));
    ac->steps = rnd_int(&r, 4000, 9000);
    ac->pool_m = rnd_int(&r, 0, 3) == 0 ? 50 : 25;
    while (picked < 3) {
        int s = (int)(rnd_next(&r) % SP_COUNT);
        int i = 0;

        for (i = 0; i < picked && ac->sport[i] != s; i++) {
        }
        if (i == picked) {
            ac->sport[picked++] = s;
        }
    }
    ac->first = ac->female ? female_names[rnd_next(&r) % COUNT(female_names)]
                           : male_names[rnd_next(&r) % COUNT(male_names)];
    ac->last = last_names[rnd_next(&r) % COUNT(last_names)];
    /* every account has data from early 2024 on */
    ac->since = (int)isotime_days_from_civil(2024, 1, 1) + rnd_int(&r, 0, 58);
    crypto_sha256(id, strlen(id), h);
    codec_hex_encode(h, 4, ac->serial);
    ac->serial[8] = '\0';
}

int
sandbox_data_offset(const char *account_id)
{
    struct account ac;

    account_get(account_id, &ac);
    return ac.place->offset;
}

int64_t
sandbox_data_local_day(const char *account_id, int64_t t)
{
    return floor_div(t + sandbox_data_offset(account_id), DAY_S);
}

/* The unix time of the local midnight that starts `day`. */
static int64_t
midnight(const struct account *ac, int64_t day)
{
    return day * DAY_S - ac->place->offset;
}

static int
age_on(const struct account *ac, int64_t day)
{
    int by = 0;
    int bm = 0;
    int bd = 0;
    int y = 0;
    int m = 0;
    int d = 0;

    isotime_civil_from_days(ac->birth, &by, &bm, &bd);
    isotime_civil_from_days(day, &y, &m, &d);
    return y - by - (m < bm || (m == bm && d < bd) ? 1 : 0);
}

/* Tanaka's estimate of the maximum heart rate. */
static int
max_hr(const struct account *ac, int64_t day)
{
    return (int)lround(208 - 0.7 * age_on(ac, day));
}

static void
seed_day(struct rnd *r, const struct account *ac, int64_t day,
         const char *stream)
{
    char date[16];

    day_text(day, date);
    rnd_seed(r, ac->id, date, stream);
}

/* The weight trend on `day`, without the day's own wobble. */
static double
weight_trend(const struct account *ac, int64_t day)
{
    return ac->weight_kg + 1.2 * sin(2 * M_PI * (double)day / 73.0);
}

/* The day's resting heart rate: the daily and body summaries share it. */
static int
resting_hr(const struct account *ac, int64_t day)
{
    struct rnd r;

    seed_day(&r, ac, day, "resting");
    return ac->rhr + (int)lround(3 * rnd_noise(&r));
}

static json_t *
device_json(const struct account *ac, int scale)
{
    char serial[32];

    snprintf(serial, sizeof(serial), "SBX-%c-%s", scale ? 'S' : 'W',
             ac->serial);
    return json_pack("{s:s, s:s, s:s, s:s}", "maker", "ferry sandbox", "model",
                     scale ? "Sandbox Scale" : "Sandbox Watch 3", "serial",
                     serial, "firmware", scale ? "1.8.2" : "3.4.1");
}

/* ---- the day's plan ---- */

enum slot { SLOT_MORNING = 0, SLOT_LUNCH, SLOT_EVENING };

static const char *const slot_names[] = {"Morning", "Lunch", "Evening"};

struct session {
    int sport;
    int slot;
    int64_t start; /* unix seconds */
    int minutes;
    int manual;
    int k; /* its number in the day */
};

struct plan {
    struct session w[2];
    int nw;
    int nap;
    int64_t nap_start;
    int nap_minutes;
    int nap_manual;
};

static int
pick_sport(struct rnd *r, const struct account *ac, int avoid)
{
    int roll = rnd_int(r, 0, 99);
    int s = roll < 50 ? ac->sport[0] : roll < 75 ? ac->sport[1] : ac->sport[2];

    if (s == avoid) {
        s = s == ac->sport[0] ? ac->sport[1] : ac->sport[0];
    }
    return s;
}

static void
plan_session(struct rnd *r, const struct account *ac, int64_t day, int slot,
             struct session *w, int avoid)
{
    static const int from[] = {8 * 60, 12 * 60, 17 * 60 + 30};
    static const int span[] = {60, 30, 90};
    const struct sport *sp = NULL;
    int hi = 0;

    w->sport = pick_sport(r, ac, avoid);
    sp = &sports[w->sport];
    w->slot = slot;
    hi = slot == SLOT_LUNCH && sp->max_minutes > 60 ? 60 : sp->max_minutes;
    w->minutes = rnd_int(r, sp->min_minutes, hi);
    w->start =
        midnight(ac, day) + 60LL * (from[slot] + rnd_int(r, 0, span[slot]));
    w->manual = sp->manual && rnd_int(r, 0, 9) < 3;
}

static void
plan_day(const struct account *ac, int64_t day, struct plan *p)
{
    struct rnd r;
    int roll = 0;

    memset(p, 0, sizeof(*p));
    seed_day(&r, ac, day, "plan");
    roll = rnd_int(&r, 0, 99);
    if (roll >= 85) {
        plan_session(&r, ac, day, SLOT_MORNING, &p->w[0], -1);
        plan_session(&r, ac, day, SLOT_EVENING, &p->w[1], p->w[0].sport);
        p->nw = 2;
    } else if (roll >= 35) {
        int s = rnd_int(&r, 0, 99);

        plan_session(&r, ac, day,
                     s < 45   ? SLOT_MORNING
                     : s < 65 ? SLOT_LUNCH
                              : SLOT_EVENING,
                     &p->w[0], -1);
        p->nw = 1;
    }
    p->w[0].k = 0;
    p->w[1].k = 1;
    if (rnd_int(&r, 0, 99) < 15 &&
        !(p->nw == 1 && p->w[0].slot == SLOT_LUNCH)) {
        p->nap = 1;
        p->nap_start = midnight(ac, day) + 60LL * rnd_int(&r, 14 * 60, 15 * 60);
        p->nap_minutes = rnd_int(&r, 20, 50);
        p->nap_manual = rnd_int(&r, 0, 9) < 4;
    }
}

/* The night that ends on the morning of `day`: in bed [*start, *end). */
static void
night_times(const struct account *ac, int64_t day, int64_t *start, int64_t *end)
{
    struct rnd r;

    seed_day(&r, ac, day, "night");
    *start = midnight(ac, day) - 60LL * rnd_int(&r, 1, 120);
    *end = midnight(ac, day) + 60LL * rnd_int(&r, 345, 465);
}

/* ---- JSON helpers ---- */

/* Set `o[k]` to `v` (taken); on any failure `*bad` is set. */
static void
put(json_t *o, const char *k, json_t *v, int *bad)
{
    if (v == NULL || json_object_set_new(o, k, v) < 0) {
        *bad = 1;
    }
}

static json_t *
ints_json(const int *v, int n)
{
    json_t *a = json_array();
    int i = 0;

    for (i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, json_integer(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* v[i] * unit, each rounded to `unit`. */
static json_t *
scaled_json(const int *v, int n, double unit)
{
    json_t *a = json_array();
    int i = 0;

    for (i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, json_real(v[i] * unit)) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *
reals_json(const double *v, int n)
{
    json_t *a = json_array();
    int i = 0;

    for (i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, json_real(v[i])) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

/* An id of the provider's own: prefix and 16 hex digits of the seed. */
static void
item_id(const struct account *ac, int64_t day, const char *stream,
        const char *prefix, char out[32])
{
    char date[16];
    char in[192];
    unsigned char h[32];

    day_text(day, date);
    snprintf(in, sizeof(in), "%s|%s|%s", ac->id, date, stream);
    crypto_sha256(in, strlen(in), h);
    memcpy(out, prefix, 3);
    codec_hex_encode(h, 8, out + 3);
    out[19] = '\0';
}

/* ---- workouts ---- */

/*
 * A simulated workout. Samples are taken at i * SANDBOX_SAMPLE_SECONDS
 * for i = 0..n; the per-interval ones (steps, kcal) count what happened
 * in the interval ending at sample i, so their sample 0 is 0.
 */
struct workout {
    const struct sport *sp;
    struct session s;
    int maxhr;
    int n; /* intervals; 0 for a manual entry (no samples) */
    int hr[SAMPLES_N];
    int v[SAMPLES_N];     /* cm/s */
    int d[SAMPLES_N];     /* cm, cumulative */
    int steps[SAMPLES_N]; /* in the interval */
    int kcal[SAMPLES_N];  /* tenths of kcal in the interval */
    int alt[SAMPLES_N];   /* dm */
    int watts[SAMPLES_N];
    double lat[SAMPLES_N];
    double lon[SAMPLES_N];
    /* the summary, from the samples */
    long steps_total;
    long kcal_total; /* tenths */
    int hr_avg;
    int hr_min;
    int hr_max;
    int v_max;
    long gain; /* dm */
    long loss;
    int alt_min;
    int alt_max;
    int alt_avg;
    int watts_avg;
    int watts_max;
    int zone_s[6]; /* seconds in each heart rate zone */
    int laps;
    int strokes;
};

/* Speeds (cm/s) and their integral, the distance (cm). */
static void
sim_speed(struct rnd *r, struct workout *w, double vs)
{
    double x = 0;
    int n = w->n;
    int i = 0;

    for (i = 0; i <= n; i++) {
        double f = 1.0;

        if (i < n * 0.06) {
            f = 0.55 + 0.45 * i / (n * 0.06);
        } else if (i > n - n * 0.04) {
            f = 0.75;
        }
        x = 0.85 * x + 0.15 * 3 * rnd_noise(r);
        w->v[i] = i == 0 ? 0 : (int)lround(vs * f * (1 + 0.08 * x));
        /* the trapezoid rule; SANDBOX_SAMPLE_SECONDS is even */
        w->d[i] = i == 0 ? 0
                         : w->d[i - 1] + (w->v[i - 1] + w->v[i]) *
                                             (SANDBOX_SAMPLE_SECONDS / 2);
    }
}

/* Positions and altitude along a closed loop as long as the workout:
 * the hills rise from the place's own altitude up to twice their size. */
static void
sim_route(struct rnd *r, const struct account *ac, struct workout *w)
{
    double c = w->d[w->n] / 100.0; /* m */
    double rad = c / (2 * M_PI);
    double lat0 = ac->place->lat + rnd_real(r, -0.02, 0.02);
    double lon0 = ac->place->lon + rnd_real(r, -0.02, 0.02);
    double mlat = 111320.0;
    double mlon = 111320.0 * cos(lat0 * M_PI / 180);
    double b = rnd_real(r, 0, 2 * M_PI);
    double dir = rnd_int(r, 0, 1) ? 1 : -1;
    double p1 = rnd_real(r, 0, 2 * M_PI);
    double p2 = rnd_real(r, 0, 2 * M_PI);
    double amp = rnd_real(r, 0.6, 1.2);
    int k = 2 + (int)(c / 2500); /* more hills on a longer loop */
    double clat = lat0 + rad * cos(b) / mlat;
    double clon = lon0 + rad * sin(b) / mlon;
    int i = 0;

    for (i = 0; i <= w->n; i++) {
        double f = c > 0 ? w->d[i] / 100.0 / c : 0;
        double a = b + M_PI + dir * 2 * M_PI * f;
        double hill = amp * (1 + 0.6 * sin(2 * M_PI * f + p1) +
                             0.4 * sin(2 * M_PI * k * f + p2));

        w->lat[i] = round_to(clat + rad * cos(a) / mlat, 1e-6);
        w->lon[i] = round_to(clon + rad * sin(a) / mlon, 1e-6);
        if (i == 0 || i == w->n) {
            /* the loop closes where it began */
            w->lat[i] = round_to(lat0, 1e-6);
            w->lon[i] = round_to(lon0, 1e-6);
        }
        w->alt[i] = (int)lround(10 * (ac->place->alt + w->sp->hills * hill));
    }
}

static void
sim_power(struct rnd *r, struct workout *w)
{
    int i = 0;

    for (i = 1; i <= w->n; i++) {
        double v = w->v[i] / 100.0;
        double p = 0;

        if (w->sp->power == 1) {
            double run = (w->d[i] - w->d[i - 1]) / 100.0;
            double grade = w->sp->gps && run > 1
                               ? (w->alt[i] - w->alt[i - 1]) / 10.0 / run
                               : 0;

            p = 0.19 * v * v * v + 4 * v + 75 * 9.81 * v * grade;
        } else {
            p = 2.8 * v * v * v; /* a rowing machine's pace to watts */
        }
        p *= 1 + 0.05 * rnd_noise(r);
        w->watts[i] = p < 0 ? 0 : p > 1400 ? 1400 : (int)lround(p);
    }
}

static void
sim_heart(struct rnd *r, const struct account *ac, struct workout *w, double vs,
          double pct)
{
    double h = ac->rhr + 20;
    double target = w->maxhr * pct / 100;
    int n = w->n;
    int i = 0;

    w->hr[0] = (int)lround(h);
    for (i = 1; i <= n; i++) {
        double t = target * (1 + 0.04 * i / n);

        if (w->sp->v_lo > 0) {
            t *= 0.9 + 0.1 * w->v[i] / vs;
        }
        if (w->s.sport == SP_STRENGTH) {
            t *= (i * SANDBOX_SAMPLE_SECONDS) % 180 < 45 ? 1.08 : 0.86;
        } else if (w->s.sport == SP_YOGA) {
            t *= 1 + 0.05 * sin(i / 30.0);
        }
        if (i > n - n * 0.04) {
            t *= 0.85;
        }
        h += (t - h) * 0.1 + 1.2 * rnd_noise(r);
        h = h < 45 ? 45 : h > w->maxhr + 2 ? w->maxhr + 2 : h;
        w->hr[i] = (int)lround(h);
    }
}

static void
sim_counts(struct rnd *r, const struct account *ac, struct workout *w,
           double vs)
{
    double dtm = SANDBOX_SAMPLE_SECONDS / 60.0;
    int i = 0;

    for (i = 1; i <= w->n; i++) {
        double k = 10 * dtm * ac->weight_kg * (0.0011 * w->hr[i] - 0.06);

        if (w->sp->cadence > 0) {
            double s = w->sp->cadence * dtm * (0.85 + 0.15 * w->v[i] / vs);

            s += 0.4 * rnd_noise(r);
            w->steps[i] = s < 0 ? 0 : (int)lround(s);
        }
        w->kcal[i] = k < 2 ? 2 : (int)lround(k);
    }
}

/* Every total of `w` from its samples. */
static void
summarise(struct workout *w)
{
    long hr = 0;
    long alt = 0;
    long watts = 0;
    int i = 0;

    w->hr_min = w->hr_max = w->hr[0];
    w->alt_min = w->alt_max = w->alt[0];
    for (i = 0; i <= w->n; i++) {
        hr += w->hr[i];
        alt += w->alt[i];
        w->hr_min = w->hr[i] < w->hr_min ? w->hr[i] : w->hr_min;
        w->hr_max = w->hr[i] > w->hr_max ? w->hr[i] : w->hr_max;
        w->v_max = w->v[i] > w->v_max ? w->v[i] : w->v_max;
        w->alt_min = w->alt[i] < w->alt_min ? w->alt[i] : w->alt_min;
        w->alt_max = w->alt[i] > w->alt_max ? w->alt[i] : w->alt_max;
        w->steps_total += w->steps[i];
        w->kcal_total += w->kcal[i];
        w->watts_max = w->watts[i] > w->watts_max ? w->watts[i] : w->watts_max;
        if (i > 0) {
            int dz = w->alt[i] - w->alt[i - 1];
            int pct = w->hr[i] * 100 / w->maxhr;
            int zone = pct < 50 ? 0 : pct >= 90 ? 5 : (pct - 40) / 10;

            w->gain += dz > 0 ? dz : 0;
            w->loss += dz < 0 ? -dz : 0;
            watts += w->watts[i];
            w->zone_s[zone] += SANDBOX_SAMPLE_SECONDS;
        }
    }
    w->hr_avg = (int)lround((double)hr / (w->n + 1));
    w->alt_avg = (int)lround((double)alt / (w->n + 1));
    w->watts_avg = (int)lround((double)watts / w->n);
}

/* Simulate session `s` of `day` into `w` (zeroed). */
static void
workout_sim(const struct account *ac, int64_t day, const struct session *s,
            struct workout *w)
{
    char stream[16];
    struct rnd r;
    double u = 0;
    double vs = 0;
    double pct = 0;

    snprintf(stream, sizeof(stream), "workout%d", s->k);
    seed_day(&r, ac, day, stream);
    w->s = *s;
    w->sp = &sports[s->sport];
    w->maxhr = max_hr(ac, day);
    if (s->manual) {
        /* a hand-entered session has no samples, only an estimate */
        double rate = s->sport == SP_YOGA ? 0.05 : 0.085;

        w->kcal_total = lround(10 * rate * ac->weight_kg * s->minutes);
        return;
    }
    w->n = s->minutes * 60 / SANDBOX_SAMPLE_SECONDS;
    u = rnd_unit(&r);
    vs = w->sp->v_lo +
         (w->sp->v_hi - w->sp->v_lo) * (0.5 * ac->fitness + 0.5 * u);
    pct = w->sp->hr_lo + (w->sp->hr_hi - w->sp->hr_lo) * u;
    if (w->sp->v_lo > 0) {
        sim_speed(&r, w, vs);
    }
    if (w->sp->gps) {
        sim_route(&r, ac, w);
    }
    if (w->sp->power) {
        sim_power(&r, w);
    }
    sim_heart(&r, ac, w, vs, pct);
    sim_counts(&r, ac, w, vs);
    summarise(w);
    if (w->sp->pool) {
        int per_lap =
            ac->pool_m == 50 ? rnd_int(&r, 30, 40) : rnd_int(&r, 14, 20);

        w->laps = (int)lround(w->d[w->n] / 100.0 / ac->pool_m);
        w->strokes = w->laps * per_lap;
    }
}

static json_t *
zones_json(const struct workout *w)
{
    json_t *a = json_array();
    int z = 0;

    for (z = 0; a != NULL && z < 6; z++) {
        json_t *o = json_pack("{s:i, s:i, s:i, s:i}", "zone", z, "from_pct",
                              z == 0 ? 0 : 40 + 10 * z, "to_pct",
                              z == 0   ? 50
                              : z == 5 ? 100
                                       : 50 + 10 * z,
                              "seconds", w->zone_s[z]);

        if (o == NULL || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *
samples_json(const struct workout *w)
{
    const struct sport *sp = w->sp;
    json_t *o = json_object();
    int n = w->n + 1;
    int bad = o == NULL;

    put(o, "interval_s", json_integer(SANDBOX_SAMPLE_SECONDS), &bad);
    put(o, "heart_rate_bpm", ints_json(w->hr, n), &bad);
    if (sp->v_lo > 0) {
        put(o, "speed_mps", scaled_json(w->v, n, 0.01), &bad);
        put(o, "distance_m", scaled_json(w->d, n, 0.01), &bad);
    }
    if (sp->cadence > 0) {
        put(o, "steps", ints_json(w->steps, n), &bad);
    }
    put(o, "calories_kcal", scaled_json(w->kcal, n, 0.1), &bad);
    if (sp->gps) {
        put(o, "altitude_m", scaled_json(w->alt, n, 0.1), &bad);
        put(o, "latitude", reals_json(w->lat, n), &bad);
        put(o, "longitude", reals_json(w->lon, n), &bad);
    }
    if (sp->power) {
        put(o, "power_w", ints_json(w->watts, n), &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* The summary fields that only a recorded workout has. */
static void
recorded_json(const struct account *ac, const struct workout *w, json_t *o,
              int *bad)
{
    const struct sport *sp = w->sp;
    int dur = w->s.minutes * 60;

    if (sp->v_lo > 0) {
        put(o, "distance_m", json_real(w->d[w->n] / 100.0), bad);
        put(o, "avg_speed_mps",
            json_real(round_to(w->d[w->n] / 100.0 / dur, 0.01)), bad);
        put(o, "max_speed_mps", json_real(w->v_max / 100.0), bad);
    }
    if (sp->cadence > 0) {
        put(o, "steps", json_integer(w->steps_total), bad);
    }
    put(o, "avg_hr_bpm", json_integer(w->hr_avg), bad);
    put(o, "min_hr_bpm", json_integer(w->hr_min), bad);
    put(o, "max_hr_bpm", json_integer(w->hr_max), bad);
    put(o, "user_max_hr_bpm", json_integer(w->maxhr), bad);
    if (sp->gps) {
        put(o, "elevation",
            json_pack("{s:f, s:f, s:f, s:f, s:f}", "gain_m", w->gain / 10.0,
                      "loss_m", w->loss / 10.0, "min_m", w->alt_min / 10.0,
                      "max_m", w->alt_max / 10.0, "avg_m", w->alt_avg / 10.0),
            bad);
    }
    if (sp->power) {
        put(o, "avg_power_w", json_integer(w->watts_avg), bad);
        put(o, "max_power_w", json_integer(w->watts_max), bad);
    }
    if (sp->pool) {
        put(o, "pool",
            json_pack("{s:i, s:i, s:i}", "length_m", ac->pool_m, "laps",
                      w->laps, "strokes", w->strokes),
            bad);
    }
    put(o, "hr_zones", zones_json(w), bad);
    put(o, "device", device_json(ac, 0), bad);
    put(o, "samples", samples_json(w), bad);
}

static json_t *
workout_json(const struct account *ac, int64_t day, const struct workout *w)
{
    char stream[16];
    char id[32];
    char title[64];
    int off = ac->place->offset;
    int64_t end = w->s.start + w->s.minutes * 60LL;
    json_t *o = json_object();
    int bad = o == NULL;

    snprintf(stream, sizeof(stream), "workout%d", w->s.k);
    item_id(ac, day, stream, "wk_", id);
    snprintf(title, sizeof(title), "%s %s", slot_names[w->s.slot], w->sp->noun);
    put(o, "id", json_string(id), &bad);
    put(o, "sport", json_string(w->sp->name), &bad);
    put(o, "title", json_string(title), &bad);
    put(o, "start", time_json(w->s.start, off), &bad);
    put(o, "end", time_json(end, off), &bad);
    put(o, "duration_s", json_integer(w->s.minutes * 60), &bad);
    put(o, "source", json_string(w->s.manual ? "manual" : "device"), &bad);
    put(o, "calories_kcal", json_real(w->kcal_total / 10.0), &bad);
    if (!w->s.manual) {
        recorded_json(ac, w, o, &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- nights and naps ---- */

#define NIGHT_SAMPLES (EPOCHS_N * SANDBOX_EPOCH_SECONDS / SANDBOX_NIGHT_SECONDS)

enum stage { ST_AWAKE = 0, ST_LIGHT, ST_DEEP, ST_REM };

static const char stage_letters[] = "ALDR";

struct night {
    int nap;
    int manual; /* a nap entered by hand: times only */
    int64_t start;
    int64_t end;
    int epochs;
    char stages[EPOCHS_N + 1]; /* one letter of stage_letters an epoch */
    int count[4];              /* epochs of each stage */
    int latency;               /* epochs awake before the first sleep */
    int wakes;                 /* awake runs between sleep and the last */
    int nhr;
    int hr[NIGHT_SAMPLES];
    int hrv[NIGHT_SAMPLES];
    int hr_avg;
    int hr_min;
    int hr_max;
    int hrv_avg;
};

/* Append `n` epochs of `st`, no further than `limit`. */
static void
epochs_add(struct night *nt, int *pos, int st, int n, int limit)
{
    while (n-- > 0 && *pos < limit) {
        nt->stages[(*pos)++] = stage_letters[st];
    }
}

/* The hypnogram: sleep cycles of about 90 minutes between the time it
 * takes to fall asleep and the time in bed after waking. Deep sleep
 * comes early in the night, REM late. */
static void
hypnogram(struct rnd *r, struct night *nt)
{
    static const int deep_pct[] = {30, 22, 12, 5};
    static const int rem_pct[] = {10, 17, 24, 30};
    int lat = nt->nap ? rnd_int(r, 3, 12) : rnd_int(r, 8, 40);
    int tail = nt->nap ? rnd_int(r, 1, 4) : rnd_int(r, 4, 20);
    int mid = nt->epochs - tail;
    int pos = 0;
    int c = 0;

    epochs_add(nt, &pos, ST_AWAKE, lat, mid);
    while (pos < mid) {
        int len = nt->nap ? mid - pos : rnd_int(r, 160, 200);
        int cy = c < 3 ? c : 3;
        int deep = len * (nt->nap ? 15 : deep_pct[cy]) / 100;
        int rem = nt->nap ? 0 : len * rem_pct[cy] / 100;
        int light = len - deep - rem;

        epochs_add(nt, &pos, ST_LIGHT, light * 2 / 3, mid);
        epochs_add(nt, &pos, ST_DEEP, deep, mid);
        epochs_add(nt, &pos, ST_LIGHT, light - light * 2 / 3, mid);
        epochs_add(nt, &pos, ST_REM, rem, mid);
        if (!nt->nap && pos < mid - 20 && rnd_int(r, 0, 1)) {
            epochs_add(nt, &pos, ST_AWAKE, rnd_int(r, 1, 6), mid);
        }
        c++;
    }
    epochs_add(nt, &pos, ST_AWAKE, tail, nt->epochs);
    nt->stages[pos] = '\0';
}

/* Counts, latency and wake-ups, from the hypnogram itself. */
static void
night_counts(struct night *nt)
{
    int first = -1;
    int last = -1;
    int i = 0;

    for (i = 0; i < nt->epochs; i++) {
        int st = (int)(strchr(stage_letters, nt->stages[i]) - stage_letters);

        nt->count[st]++;
        if (st != ST_AWAKE) {
            first = first < 0 ? i : first;
            last = i;
        }
    }
    nt->latency = first;
    for (i = first + 1; i <= last; i++) {
        if (nt->stages[i] == 'A' && nt->stages[i - 1] != 'A') {
            nt->wakes++;
        }
    }
}

/* Heart rate and HRV every SANDBOX_NIGHT_SECONDS, by the stage. */
static void
night_heart(struct rnd *r, const struct account *ac, int64_t day,
            struct night *nt)
{
    static const int hr_add[] = {8, -3, -6, 2};
    static const double hrv_mul[] = {0.7, 1.0, 1.25, 0.85};
    int per = SANDBOX_NIGHT_SECONDS / SANDBOX_EPOCH_SECONDS;
    int rhr = resting_hr(ac, day);
    long hr = 0;
    long hrv = 0;
    int k = 0;

    nt->nhr = nt->epochs / per;
    for (k = 0; k < nt->nhr; k++) {
        char c = nt->stages[k * per];
        int st = (int)(strchr(stage_letters, c) - stage_letters);
        double h = rhr + hr_add[st] - 3.0 * k / nt->nhr + 2 * rnd_noise(r);
        double v = ac->hrv * hrv_mul[st] * (1 + 0.15 * rnd_noise(r));

        nt->hr[k] = (int)lround(h);
        nt->hrv[k] = (int)lround(v);
        hr += nt->hr[k];
        hrv += nt->hrv[k];
        nt->hr_min = k == 0 || nt->hr[k] < nt->hr_min ? nt->hr[k] : nt->hr_min;
        nt->hr_max = nt->hr[k] > nt->hr_max ? nt->hr[k] : nt->hr_max;
    }
    if (nt->nhr > 0) {
        nt->hr_avg = (int)lround((double)hr / nt->nhr);
        nt->hrv_avg = (int)lround((double)hrv / nt->nhr);
    }
}

/* The night ending on the morning of `day` (nap 0) or the day's nap. */
static void
night_sim(const struct account *ac, int64_t day, int nap, struct night *nt)
{
    struct rnd r;

    memset(nt, 0, sizeof(*nt));
    nt->nap = nap;
    if (nap) {
        struct plan p;

        plan_day(ac, day, &p);
        nt->start = p.nap_start;
        nt->end = p.nap_start + 60LL * p.nap_minutes;
        nt->manual = p.nap_manual;
        seed_day(&r, ac, day, "nap");
    } else {
        night_times(ac, day, &nt->start, &nt->end);
        seed_day(&r, ac, day, "night-stages");
    }
    nt->epochs = (int)((nt->end - nt->start) / SANDBOX_EPOCH_SECONDS);
    if (nt->manual) {
        return;
    }
    hypnogram(&r, nt);
    night_counts(nt);
    night_heart(&r, ac, day, nt);
}

static json_t *
stages_json(const struct night *nt)
{
    return json_pack("{s:i, s:i, s:i, s:i}", "awake",
                     nt->count[ST_AWAKE] * SANDBOX_EPOCH_SECONDS, "light",
                     nt->count[ST_LIGHT] * SANDBOX_EPOCH_SECONDS, "deep",
                     nt->count[ST_DEEP] * SANDBOX_EPOCH_SECONDS, "rem",
                     nt->count[ST_REM] * SANDBOX_EPOCH_SECONDS);
}

/* What only a recorded night has: stages, heart, scores. */
static void
night_recorded_json(const struct account *ac, int64_t day,
                    const struct night *nt, json_t *o, int *bad)
{
    int asleep = nt->epochs - nt->count[ST_AWAKE];
    double eff = round_to((double)asleep / nt->epochs, 0.001);
    struct rnd r;

    put(o, "stages_s", stages_json(nt), bad);
    put(o, "latency_s", json_integer(nt->latency * SANDBOX_EPOCH_SECONDS), bad);
    put(o, "wake_events", json_integer(nt->wakes), bad);
    put(o, "efficiency", json_real(eff), bad);
    put(o, "hypnogram",
        json_pack("{s:i, s:s}", "epoch_s", SANDBOX_EPOCH_SECONDS, "stages",
                  nt->stages),
        bad);
    put(o, "heart_rate",
        json_pack("{s:i, s:o, s:i, s:i, s:i}", "interval_s",
                  SANDBOX_NIGHT_SECONDS, "bpm", ints_json(nt->hr, nt->nhr),
                  "avg", nt->hr_avg, "min", nt->hr_min, "max", nt->hr_max),
        bad);
    put(o, "hrv",
        json_pack("{s:i, s:o, s:i}", "interval_s", SANDBOX_NIGHT_SECONDS,
                  "rmssd_ms", ints_json(nt->hrv, nt->nhr), "avg", nt->hrv_avg),
        bad);
    if (!nt->nap) {
        double hours = asleep * SANDBOX_EPOCH_SECONDS / 3600.0;
        long score = lround(40 + 6 * hours + 100 * (eff - 0.85));
        long ready = 0;

        seed_day(&r, ac, day, "night-scores");
        score = score < 30 ? 30 : score > 100 ? 100 : score;
        ready = lround(50 + 60.0 * (nt->hrv_avg - ac->hrv) / ac->hrv +
                       (score - 70) / 2.0 + 5 * rnd_noise(&r));
        ready = ready < 20 ? 20 : ready > 100 ? 100 : ready;
        put(o, "score", json_integer(score), bad);
        put(o, "readiness", json_integer(ready), bad);
        put(o, "respiratory_rate",
            json_real(round_to(rnd_real(&r, 12, 17), 0.1)), bad);
        put(o, "spo2_pct", json_real(round_to(rnd_real(&r, 94, 98.5), 0.1)),
            bad);
        put(o, "skin_temp_delta_c",
            json_real(round_to(rnd_real(&r, -0.5, 0.5), 0.01)), bad);
    }
    put(o, "device", device_json(ac, 0), bad);
}

static json_t *
night_json(const struct account *ac, int64_t day, const struct night *nt)
{
    int off = ac->place->offset;
    char date[16];
    char id[32];
    json_t *o = json_object();
    int bad = o == NULL;

    day_text(day, date);
    item_id(ac, day, nt->nap ? "nap" : "night", "sl_", id);
    put(o, "id", json_string(id), &bad);
    put(o, "date", json_string(date), &bad);
    put(o, "nap", json_boolean(nt->nap), &bad);
    put(o, "source", json_string(nt->manual ? "manual" : "device"), &bad);
    put(o, "start", time_json(nt->start, off), &bad);
    put(o, "end", time_json(nt->end, off), &bad);
    put(o, "in_bed_s", json_integer(nt->end - nt->start), &bad);
    if (!nt->manual) {
        night_recorded_json(ac, day, nt, o, &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the daily summary ---- */

/* Seconds of [a, b) within [from, to). */
static int64_t
overlap(int64_t a, int64_t b, int64_t from, int64_t to)
{
    int64_t lo = a > from ? a : from;
    int64_t hi = b < to ? b : to;

    return hi > lo ? hi - lo : 0;
}

struct daily {
    int64_t mid;
    int bed_s[24];  /* in bed, each hour */
    int work_s[24]; /* in a workout */
    int steps[24];
    int hr[24];
    long base_steps;
    long steps_total;
    long dist_cm;
    long kcal_workouts; /* tenths */
    int hr_max;
    long gain_dm;
    int in_bed_min;
    int workout_min;
    int vigorous_min;
    int moderate_min;
    /* the totals */
    int rhr;
    int hr_avg;
    int hr_min;
    long bmr;    /* tenths of kcal */
    long active; /* tenths of kcal */
    int extra_min;
    int low_min;
    int sedentary_min;
    int floors;
    int stress_avg;
    int stress_max;
    int score;
};

/* Add the workouts of `p` to `dl`: their steps and heart rate by the
 * hour their samples fall in, their distance, calories and minutes. */
static void
daily_workouts(const struct account *ac, int64_t day, const struct plan *p,
               struct daily *dl, double *hr_sum)
{
    struct workout *w = xcalloc(1, sizeof(*w));
    int maxhr = max_hr(ac, day);
    int k = 0;

    for (k = 0; k < p->nw; k++) {
        int i = 0;

        memset(w, 0, sizeof(*w));
        workout_sim(ac, day, &p->w[k], w);
        for (i = 1; i <= w->n; i++) {
            int64_t t = w->s.start + (i - 1) * SANDBOX_SAMPLE_SECONDS;
            int h = (int)((t - dl->mid) / 3600);

            dl->steps[h] += w->steps[i];
            hr_sum[h] += (double)w->hr[i] * SANDBOX_SAMPLE_SECONDS;
        }
        if (w->s.manual) {
            int64_t t = 0;

            for (t = w->s.start; t < w->s.start + w->s.minutes * 60; t += 60) {
                hr_sum[(t - dl->mid) / 3600] += 60.0 * (ac->rhr + 30);
            }
        }
        if (w->sp->cadence > 0) {
            dl->dist_cm += w->d[w->n];
        }
        dl->kcal_workouts += w->kcal_total;
        dl->hr_max = w->hr_max > dl->hr_max ? w->hr_max : dl->hr_max;
        dl->gain_dm += w->gain;
        dl->workout_min += w->s.minutes;
        if (!w->s.manual && w->hr_avg * 100 >= 70 * maxhr) {
            dl->vigorous_min += w->s.minutes;
        } else {
            dl->moderate_min += w->s.minutes;
        }
    }
    free(w);
}

/* Where the day was spent, hour by hour: in bed, in workouts, free. */
static void
daily_hours(const struct account *ac, int64_t day, const struct plan *p,
            struct daily *dl)
{
    int64_t wake_s = 0;
    int64_t wake_e = 0;
    int64_t bed_s = 0;
    int64_t bed_e = 0;
    int h = 0;
    int k = 0;

    night_times(ac, day, &wake_s, &wake_e);
    night_times(ac, day + 1, &bed_s, &bed_e);
    for (h = 0; h < 24; h++) {
        int64_t hs = dl->mid + 3600LL * h;
        int64_t he = hs + 3600;

        dl->bed_s[h] = (int)(overlap(wake_s, wake_e, hs, he) +
                             overlap(bed_s, bed_e, hs, he));
        if (p->nap) {
            dl->bed_s[h] += (int)overlap(
                p->nap_start, p->nap_start + 60LL * p->nap_minutes, hs, he);
        }
        for (k = 0; k < p->nw; k++) {
            dl->work_s[h] += (int)overlap(
                p->w[k].start, p->w[k].start + 60LL * p->w[k].minutes, hs, he);
        }
        dl->in_bed_min += dl->bed_s[h] / 60;
    }
}

/* Steps and heart rate outside workouts, spread over the free hours. */
static void
daily_base(struct rnd *r, const struct account *ac, int rhr, struct daily *dl,
           double *hr_sum)
{
    static const int weight[24] = {0, 0, 0, 0, 0, 0, 2, 6, 8, 5, 4, 5,
                                   7, 5, 4, 5, 6, 8, 7, 5, 4, 3, 1, 0};
    double target = ac->steps * rnd_real(r, 0.7, 1.3);
    double sum = 0;
    int h = 0;

    for (h = 0; h < 24; h++) {
        sum += weight[h] * (3600 - dl->bed_s[h] - dl->work_s[h]) / 3600.0;
    }
    for (h = 0; h < 24; h++) {
        int free_s = 3600 - dl->bed_s[h] - dl->work_s[h];
        double share = weight[h] * free_s / 3600.0;
        double wobble = rnd_real(r, 0.6, 1.4);
        int base = sum > 0 ? (int)lround(target * share / sum * wobble) : 0;
        double awake_hr = rhr + 14 + (base / 60 > 25 ? 25 : base / 60);
        double in_bed_hr = rhr - 2 + 2 * rnd_noise(r);

        dl->base_steps += base;
        dl->steps[h] += base;
        hr_sum[h] += in_bed_hr * dl->bed_s[h] + awake_hr * free_s;
        dl->hr[h] = (int)lround(hr_sum[h] / 3600);
    }
}

/* The totals of the day, from the hours and the workouts. */
static void
daily_totals(const struct account *ac, int64_t day, struct daily *dl)
{
    double hr_sum[24] = {0};
    struct plan p;
    struct rnd r;
    int age = age_on(ac, day);
    long hr_all = 0;
    int free_min = 0;
    int h = 0;

    dl->mid = midnight(ac, day);
    dl->rhr = resting_hr(ac, day);
    plan_day(ac, day, &p);
    seed_day(&r, ac, day, "daily");
    daily_hours(ac, day, &p, dl);
    daily_workouts(ac, day, &p, dl, hr_sum);
    daily_base(&r, ac, dl->rhr, dl, hr_sum);
    for (h = 0; h < 24; h++) {
        dl->steps_total += dl->steps[h];
        hr_all += dl->hr[h];
        dl->hr_min = h == 0 || dl->hr[h] < dl->hr_min ? dl->hr[h] : dl->hr_min;
        dl->hr_max = dl->hr[h] > dl->hr_max ? dl->hr[h] : dl->hr_max;
    }
    dl->hr_avg = (int)lround(hr_all / 24.0);
    dl->dist_cm += dl->base_steps * lround(ac->height_cm * 0.415);

    /* Mifflin-St Jeor, in tenths of kcal */
    dl->bmr = lround(10 * (10 * weight_trend(ac, day) + 6.25 * ac->height_cm -
                           5 * age + (ac->female ? -161 : 5)));
    dl->active = lround(dl->base_steps * 0.04 * ac->weight_kg / 70 * 10) +
                 dl->kcal_workouts;

    /* the minutes of the day add up to 1440 */
    free_min = 1440 - dl->in_bed_min - dl->workout_min;
    dl->extra_min =
        (int)(dl->base_steps / 400 < 60 ? dl->base_steps / 400 : 60);
    dl->extra_min = dl->extra_min < free_min ? dl->extra_min : free_min;
    dl->low_min = (int)(dl->base_steps / 70);
    if (dl->low_min > free_min - dl->extra_min) {
        dl->low_min = free_min - dl->extra_min;
    }
    dl->sedentary_min = free_min - dl->extra_min - dl->low_min;

    dl->floors = rnd_int(&r, 2, 12) + (int)lround(dl->gain_dm / 30.0);
    dl->stress_avg = rnd_int(&r, 18, 48);
    dl->stress_max = dl->stress_avg + rnd_int(&r, 20, 45);
    dl->score = (int)(35 + dl->steps_total / 250 + dl->vigorous_min / 2);
    dl->score = dl->score > 100 ? 100 : dl->score;
}

static json_t *
daily_json(const struct account *ac, int64_t day)
{
    struct daily dl;
    char date[16];
    json_t *o = json_object();
    int bad = o == NULL;

    memset(&dl, 0, sizeof(dl));
    daily_totals(ac, day, &dl);
    day_text(day, date);
    put(o, "date", json_string(date), &bad);
    put(o, "utc_offset_min", json_integer(ac->place->offset / 60), &bad);
    put(o, "steps", json_integer(dl.steps_total), &bad);
    put(o, "distance_m", json_real(dl.dist_cm / 100.0), &bad);
    put(o, "floors", json_integer(dl.floors), &bad);
    put(o, "calories",
        json_pack("{s:f, s:f, s:f}", "total_kcal", (dl.bmr + dl.active) / 10.0,
                  "active_kcal", dl.active / 10.0, "bmr_kcal", dl.bmr / 10.0),
        &bad);
    put(o, "heart_rate",
        json_pack("{s:i, s:i, s:i, s:i}", "resting_bpm", dl.rhr, "avg_bpm",
                  dl.hr_avg, "min_bpm", dl.hr_min, "max_bpm", dl.hr_max),
        &bad);
    put(o, "minutes",
        json_pack("{s:i, s:i, s:i, s:i, s:i}", "in_bed", dl.in_bed_min,
                  "sedentary", dl.sedentary_min, "low", dl.low_min, "moderate",
                  dl.moderate_min + dl.extra_min, "vigorous", dl.vigorous_min),
        &bad);
    put(o, "hourly",
        json_pack("{s:o, s:o}", "steps", ints_json(dl.steps, 24),
                  "heart_rate_bpm", ints_json(dl.hr, 24)),
        &bad);
    put(o, "stress",
        json_pack("{s:i, s:i}", "avg", dl.stress_avg, "max", dl.stress_max),
        &bad);
    put(o, "activity_score", json_integer(dl.score), &bad);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- the body summary ---- */

static json_t *
weigh_in_json(struct rnd *r, const struct account *ac, int64_t day, int64_t at)
{
    double w = round_to(weight_trend(ac, day) + 0.3 * rnd_noise(r), 0.1);
    double m = ac->height_cm / 100.0;
    double fat = round_to(ac->fat_pct + 0.8 * sin(2 * M_PI * day / 73.0) +
                              0.4 * rnd_noise(r),
                          0.1);

    return json_pack("{s:o, s:f, s:f, s:f, s:f, s:f, s:f, s:o}", "time",
                     time_json(at, ac->place->offset), "weight_kg", w, "bmi",
                     round_to(w / (m * m), 0.1), "fat_pct", fat, "muscle_kg",
                     round_to(w * (1 - fat / 100) * 0.53, 0.1), "bone_kg",
                     round_to(w * 0.043, 0.1), "water_pct",
                     round_to((100 - fat) * 0.72, 0.1), "device",
                     device_json(ac, 1));
}

static json_t *
body_json(const struct account *ac, int64_t day)
{
    struct night nt;
    struct rnd r;
    char date[16];
    int age = age_on(ac, day);
    json_t *o = json_object();
    int bad = o == NULL;

    night_sim(ac, day, 0, &nt);
    seed_day(&r, ac, day, "body");
    day_text(day, date);
    put(o, "date", json_string(date), &bad);
    put(o, "utc_offset_min", json_integer(ac->place->offset / 60), &bad);
    put(o, "resting_hr_bpm", json_integer(resting_hr(ac, day)), &bad);
    put(o, "hrv_rmssd_ms", json_integer(nt.hrv_avg), &bad);
    if (rnd_int(&r, 0, 9) < 7) {
        int64_t at = nt.end + 60LL * rnd_int(&r, 5, 40);

        put(o, "weigh_in", weigh_in_json(&r, ac, day, at), &bad);
    }
    if (rnd_int(&r, 0, 9) < 3) {
        int64_t at = nt.end + 60LL * rnd_int(&r, 10, 60);
        int sys = 104 + (age - 20) / 2 + rnd_int(&r, -6, 8);
        int dia = 66 + (age - 20) / 4 + rnd_int(&r, -5, 6);

        put(o, "blood_pressure",
            json_pack("{s:o, s:i, s:i}", "time",
                      time_json(at, ac->place->offset), "systolic_mmhg", sys,
                      "diastolic_mmhg", dia),
            &bad);
    }
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* ---- one day, the profile ---- */

static int
append(json_t *out, json_t *item)
{
    return item == NULL || json_array_append_new(out, item) < 0 ? ERR_NOMEM : 0;
}

static int
day_workouts(const struct account *ac, int64_t day, json_t *out)
{
    struct workout *w = xcalloc(1, sizeof(*w));
    struct plan p;
    int rc = 0;
    int k = 0;

    plan_day(ac, day, &p);
    for (k = 0; rc == 0 && k < p.nw; k++) {
        memset(w, 0, sizeof(*w));
        workout_sim(ac, day, &p.w[k], w);
        rc = append(out, workout_json(ac, day, w));
    }
    free(w);
    return rc;
}

static int
day_sleep(const struct account *ac, int64_t day, json_t *out)
{
    struct night *nt = xcalloc(1, sizeof(*nt));
    struct plan p;
    int rc = 0;

    night_sim(ac, day, 0, nt);
    rc = append(out, night_json(ac, day, nt));
    plan_day(ac, day, &p);
    if (rc == 0 && p.nap) {
        night_sim(ac, day, 1, nt);
        rc = append(out, night_json(ac, day, nt));
    }
    free(nt);
    return rc;
}

int
sandbox_data_day(enum sandbox_kind kind, const char *account_id, int64_t day,
                 json_t *out)
{
    struct account ac;

    if (!day_in_range(day)) {
        return ERR_INVALID;
    }
    account_get(account_id, &ac);
    switch (kind) {
    case SANDBOX_WORKOUTS:
        return day_workouts(&ac, day, out);
    case SANDBOX_SLEEP:
        return day_sleep(&ac, day, out);
    case SANDBOX_DAILY:
        return append(out, daily_json(&ac, day));
    case SANDBOX_BODY:
        return append(out, body_json(&ac, day));
    }
    return ERR_INVALID;
}

int
sandbox_data_profile(const char *account_id, const char *username,
                     int64_t today, json_t **out)
{
    struct account ac;
    char birth[16];
    char since[16];
    char email[64];

    *out = NULL;
    if (!day_in_range(today)) {
        return ERR_INVALID;
    }
    account_get(account_id, &ac);
    day_text(ac.birth, birth);
    day_text(ac.since, since);
    snprintf(email, sizeof(email), "%s@sandbox.invalid", account_id);
    *out = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:f, s:i, s:s, s:s,"
        " s:i, s:s, s:[o, o]}",
        "user_id", account_id, "username", username, "first_name", ac.first,
        "last_name", ac.last, "email", email, "sex",
        ac.female ? "female" : "male", "birth_date", birth, "age",
        age_on(&ac, today), "height_cm", ac.height_cm, "weight_kg",
        round_to(weight_trend(&ac, today), 0.1), "max_hr_bpm",
        max_hr(&ac, today), "city", ac.place->city, "country",
        ac.place->country, "utc_offset_min", ac.place->offset / 60,
        "member_since", since, "devices", device_json(&ac, 0),
        device_json(&ac, 1));
    return *out != NULL ? 0 : ERR_NOMEM;
}

/* ---- the clock ---- */

int64_t
sandbox_clock_time(const struct sandbox_clock *c, int64_t now)
{
    long ds = c->day_seconds < 1 ? 1 : c->day_seconds;

    if (now <= c->anchor) {
        return now;
    }
    return c->anchor + (now - c->anchor) * DAY_S / ds;
}

void
sandbox_data_served(const char *account_id, const struct sandbox_clock *c,
                    int64_t now, int64_t *first, int64_t *end)
{
    struct account ac;
    int64_t history =
        sandbox_data_local_day(account_id, c->anchor) - SANDBOX_HISTORY_DAYS;

    account_get(account_id, &ac);
    *first = ac.since < history ? ac.since : history;
    *end = sandbox_data_local_day(account_id, sandbox_clock_time(c, now));
}

/*
 * XXX: sandbox time is anchored at the first data request this process
 * serves, not at each account's creation: the store keeps no account
 * (only codes and tokens), so an account first seen later finds the
 * days since the anchor already served, and with a short day_seconds a
 * restart moves every account's dates back to the calendar's. Anchoring
 * per account needs the store to give the moment an account's first
 * token was issued.
 */
static _Atomic int64_t clock_anchor;

static int64_t
anchor_at(int64_t now)
{
    int64_t unset = 0;

    atomic_compare_exchange_strong(&clock_anchor, &unset, now);
    return atomic_load(&clock_anchor);
}

/* ---- pages ---- */

int
sandbox_page_token_parse(const char *s, struct sandbox_page_pos *pos)
{
    char date[16];
    int y = 0;
    int m = 0;
    int d = 0;
    int i = 0;

    for (i = 0; i < 8; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return ERR_INVALID;
        }
    }
    if (s[8] != '.' || s[9] < '0' || s[9] >= '0' + SANDBOX_DAY_ITEMS_MAX ||
        s[10] != '\0') {
        return ERR_INVALID;
    }
    snprintf(date, sizeof(date), "%.4s-%.2s-%.2s", s, s + 4, s + 6);
    if (isotime_parse_date(date, &y, &m, &d) < 0) {
        return ERR_INVALID;
    }
    pos->day = isotime_days_from_civil(y, m, d);
    pos->item = s[9] - '0';
    return 0;
}

static json_t *
token_json(int64_t day, int item)
{
    char date[16];
    char tok[SANDBOX_PAGE_TOKEN_MAX];

    day_text(day, date);
    snprintf(tok, sizeof(tok), "%.4s%.2s%.2s.%d", date, date + 5, date + 8,
             item);
    return json_string(tok);
}

/* The items of the page into `data`; the next page's start (or null)
 * into `*next`. */
static int
page_items(const struct sandbox_page_query *q, int64_t from, int64_t to,
           json_t *data, json_t **next)
{
    int64_t day = q->from != NULL ? q->from->day : from;
    int item = q->from != NULL ? q->from->item : 0;
    int rc = 0;

    *next = json_null();
    if (day < from) {
        day = from;
        item = 0;
    }
    for (; rc == 0 && day < to; day++, item = 0) {
        json_t *items = json_array();
        size_t i = 0;

        rc = items != NULL
                 ? sandbox_data_day(q->kind, q->account_id, day, items)
                 : ERR_NOMEM;
        for (i = (size_t)item; rc == 0 && i < json_array_size(items); i++) {
            if (json_array_size(data) == (size_t)q->limit) {
                json_decref(*next);
                *next = token_json(day, (int)i);
                json_decref(items);
                return *next != NULL ? 0 : ERR_NOMEM;
            }
            rc = json_array_append(data, json_array_get(items, i));
        }
        json_decref(items);
    }
    return rc < 0 ? ERR_NOMEM : 0;
}

int
sandbox_data_page(const struct sandbox_page_query *q, json_t **out,
                  struct err *e)
{
    int64_t from = q->start > q->served_first ? q->start : q->served_first;
    int64_t to = q->end < q->served_end ? q->end : q->served_end;
    char start[16];
    char end[16];
    char through[16];
    json_t *data = NULL;
    json_t *next = NULL;
    int rc = 0;

    *out = NULL;
    if (!day_in_range(q->start) || !day_in_range(q->end) ||
        !day_in_range(q->served_first) || !day_in_range(q->served_end)) {
        return err_set(e, ERR_INVALID, "the days are out of range");
    }
    if (q->from != NULL &&
        (q->from->day < q->start || q->from->day >= q->end)) {
        return err_set(e, ERR_INVALID,
                       "page_token does not belong to this range");
    }
    day_text(q->start, start);
    day_text(q->end, end);
    day_text(q->served_end - 1, through);
    data = json_array();
    if (data == NULL) {
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    rc = page_items(q, from, to, data, &next);
    if (rc == 0) {
        *out = json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "user_id",
                         q->account_id, "start", start, "end", end,
                         "available_through", through, "data", data,
                         "next_token", next);
        data = NULL;
        next = NULL;
    }
    json_decref(data);
    json_decref(next);
    if (*out == NULL) {
        return err_set(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}

/* ---- the API ---- */

static int
send_json(struct http_request *req, struct http_response *resp, int status,
          json_t *o)
{
    size_t n = o != NULL ? json_dumpb(o, NULL, 0, JSON_FLAGS) : 0;
    char *p = n > 0 ? arena_alloc(req->arena, n + 1) : NULL;

    if (p == NULL) {
        json_decref(o);
        return http_reply_error(req, resp, 500, "cannot send the answer");
    }
    json_dumpb(o, p, n, JSON_FLAGS);
    p[n] = '\0';
    json_decref(o);
    resp->status = status;
    resp->content_type = "application/json";
    resp->body = p;
    resp->body_len = n;
    return 0;
}

/* An error of the data API: {"error","error_description"}; 401 and 403
 * carry the Bearer challenge of RFC 6750 3. */
static int
refuse(struct http_request *req, struct http_response *resp, int status,
       const char *error, const char *description, const char *scope)
{
    const char *challenge = NULL;

    log_event(LOG_INFO, "sandbox", "sandbox.data.refused",
              "path=%s error=%s why=%s", req->path, error, description);
    if (status == 401 && strcmp(error, "invalid_request") == 0) {
        challenge = "Bearer realm=\"sandbox\"";
    } else if (status == 401 || status == 403) {
        challenge =
            arena_printf(req->arena,
                         "Bearer realm=\"sandbox\", error=\"%s\", "
                         "error_description=\"%s\"%s%s%s",
                         error, description, scope != NULL ? ", scope=\"" : "",
                         scope != NULL ? scope : "", scope != NULL ? "\"" : "");
        if (challenge == NULL) {
            return http_reply_error(req, resp, 500, "out of request memory");
        }
    }
    if (challenge != NULL) {
        http_add_header(resp, "WWW-Authenticate", challenge);
    }
    return send_json(req, resp, status,
                     json_pack("{s:s, s:s}", "error", error,
                               "error_description", description));
}

/*
 * The account of the request's Bearer access token, which must hold
 * the scope `need` (0: any): 0 with `*account` (in the arena), or 1
 * with the refusal sent and its outcome in `*rc`.
 */
static int
bearer(struct http_request *req, struct http_response *resp, unsigned need,
       const char *need_name, const char **account, int *rc)
{
    struct store_sandbox_token t;
    unsigned have = 0;
    struct err e;
    int grc = 0;

    err_clear(&e);
    grc = sandbox_bearer_token(req, &t, &e);
    if (grc == ERR_AUTH) {
        *rc = refuse(req, resp, 401, "invalid_request",
                     "a Bearer access token is required", NULL);
        return 1;
    }
    if (grc == ERR_NOTFOUND) {
        *rc = refuse(req, resp, 401, "invalid_token",
                     "the access token is not valid, has expired or was "
                     "revoked",
                     NULL);
        return 1;
    }
    if (grc < 0) {
        log_event(LOG_ERROR, "sandbox", "sandbox.token.get_failed", "msg=%s",
                  e.msg);
        *rc = http_reply_error(req, resp, 500, "cannot read the token");
        return 1;
    }
    if (t.scope == NULL || sandbox_scope_parse(t.scope, &have) < 0) {
        have = 0;
    }
    if ((have & need) != need) {
        *rc = refuse(req, resp, 403, "insufficient_scope",
                     "the access token lacks the scope this data needs",
                     need_name);
        return 1;
    }
    *account = t.account;
    return 0;
}

/* A date parameter as a day number: 0, or ERR_INVALID. */
static int
date_param(const char *s, int64_t *day)
{
    int y = 0;
    int m = 0;
    int d = 0;

    if (s == NULL || isotime_parse_date(s, &y, &m, &d) < 0 || y < 1900 ||
        y > 9998) {
        return ERR_INVALID;
    }
    *day = isotime_days_from_civil(y, m, d);
    return 0;
}

/* `limit`: 1..SANDBOX_PAGE_ITEMS_MAX, or `dflt` when absent. */
static int
limit_param(const char *s, int dflt, int *limit)
{
    long v = 0;
    size_t i = 0;

    if (s == NULL) {
        *limit = dflt;
        return 0;
    }
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 3) {
            return ERR_INVALID;
        }
        v = v * 10 + (s[i] - '0');
    }
    if (i == 0 || v < 1 || v > SANDBOX_PAGE_ITEMS_MAX) {
        return ERR_INVALID;
    }
    *limit = (int)v;
    return 0;
}

/* The query of a list request into `q`: NULL, or what is wrong. */
static const char *
read_query(struct http_request *req, struct sandbox_page_query *q,
           struct sandbox_page_pos *pos)
{
    struct sandbox_form f;
    const char *tok = NULL;

    if (sandbox_query_parse(req, &f) < 0) {
        return "out of request memory";
    }
    if (f.bad != NULL) {
        return sandbox_form_describe(&f, req->arena);
    }
    if (date_param(sandbox_form_get(&f, "start"), &q->start) < 0) {
        return "start must be a date, YYYY-MM-DD, in 1900-9998";
    }
    if (date_param(sandbox_form_get(&f, "end"), &q->end) < 0) {
        return "end must be a date, YYYY-MM-DD, in 1900-9998";
    }
    if (q->end <= q->start) {
        return "end must be after start (end is exclusive)";
    }
    if (q->end - q->start > SANDBOX_RANGE_DAYS_MAX) {
        return "at most 31 days can be asked for at once";
    }
    if (limit_param(sandbox_form_get(&f, "limit"),
                    q->kind == SANDBOX_WORKOUTS ? SANDBOX_WORKOUTS_PAGE
                                                : SANDBOX_PAGE_ITEMS_MAX,
                    &q->limit) < 0) {
        return "limit must be a number from 1 to 50";
    }
    tok = sandbox_form_get(&f, "page_token");
    if (tok != NULL && (sandbox_page_token_parse(tok, pos) < 0 ||
                        pos->day < q->start || pos->day >= q->end)) {
        return "page_token is not one this range gave";
    }
    q->from = tok != NULL ? pos : NULL;
    return NULL;
}

static const char *const kind_scope[] = {"activity", "sleep", "daily", "body"};
static const unsigned kind_bit[] = {SANDBOX_SCOPE_ACTIVITY, SANDBOX_SCOPE_SLEEP,
                                    SANDBOX_SCOPE_DAILY, SANDBOX_SCOPE_BODY};

int64_t
sandbox_now(long day_seconds)
{
    struct sandbox_clock c;
    int64_t now = isotime_now_us() / 1000000;

    c.anchor = anchor_at(now);
    c.day_seconds = day_seconds;
    return sandbox_clock_time(&c, now);
}

static void
clock_now(const struct app *a, struct sandbox_clock *c, int64_t *now)
{
    *now = isotime_now_us() / 1000000;
    c->anchor = anchor_at(*now);
    c->day_seconds = a->cfg->sandbox_day_seconds;
}

static int
list_get(struct http_request *req, struct http_response *resp,
         enum sandbox_kind kind)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct sandbox_page_query q;
    struct sandbox_page_pos pos;
    struct sandbox_clock c;
    const char *account = NULL;
    const char *why = NULL;
    json_t *page = NULL;
    int64_t now = 0;
    struct err e;
    int rc = 0;

    if (bearer(req, resp, kind_bit[kind], kind_scope[kind], &account, &rc)) {
        return rc;
    }
    memset(&q, 0, sizeof(q));
    q.kind = kind;
    why = read_query(req, &q, &pos);
    if (why != NULL) {
        return refuse(req, resp, 400, "invalid_request", why, NULL);
    }
    sandbox_account_id(account, id);
    clock_now(req->ctx, &c, &now);
    q.account_id = id;
    sandbox_data_served(id, &c, now, &q.served_first, &q.served_end);
    err_clear(&e);
    rc = sandbox_data_page(&q, &page, &e);
    if (rc == ERR_INVALID) {
        return refuse(req, resp, 400, "invalid_request", e.msg, NULL);
    }
    if (rc < 0) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return send_json(req, resp, 200, page);
}

int
sandbox_workouts_get(struct http_request *req, struct http_response *resp)
{
    return list_get(req, resp, SANDBOX_WORKOUTS);
}

int
sandbox_sleep_get(struct http_request *req, struct http_response *resp)
{
    return list_get(req, resp, SANDBOX_SLEEP);
}

int
sandbox_daily_get(struct http_request *req, struct http_response *resp)
{
    return list_get(req, resp, SANDBOX_DAILY);
}

int
sandbox_body_get(struct http_request *req, struct http_response *resp)
{
    return list_get(req, resp, SANDBOX_BODY);
}

int
sandbox_profile_get(struct http_request *req, struct http_response *resp)
{
    char id[SANDBOX_ACCOUNT_ID_LEN + 1];
    struct sandbox_clock c;
    const char *account = NULL;
    json_t *o = NULL;
    int64_t first = 0;
    int64_t end = 0;
    int64_t now = 0;
    int rc = 0;

    if (bearer(req, resp, 0, NULL, &account, &rc)) {
        return rc;
    }
    sandbox_account_id(account, id);
    clock_now(req->ctx, &c, &now);
    sandbox_data_served(id, &c, now, &first, &end);
    if (sandbox_data_profile(id, account, end, &o) < 0) {
        return http_reply_error(req, resp, 500, "cannot build the answer");
    }
    return send_json(req, resp, 200, o);
}

/*
 * curlpost.c - a reference point for bench/deliver: POST one body N
 * times with libcurl alone, as fast as it goes, with C transfers at
 * once on one multi handle (the headers of a ferry webhook, fixed
 * values; easy handles reused; connections kept alive). No store, no
 * signing, no queue: what the HTTP client ferry uses can do by itself
 * on this machine, to set ferry's rate against.
 *
 *     curlpost URL BODY_FILE N C
 *
 * Prints "requests=N seconds=S rate=R"; exits 1 when any request did
 * not get a 2xx.
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_C 1024

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
    (void)p;
    (void)arg;
    return size * n;
}

static char *
slurp(const char *path, long *len)
{
    FILE *f = fopen(path, "rb");
    char *p = NULL;

    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (*len = ftell(f)) < 0 ||
        fseek(f, 0, SEEK_SET) != 0) {
        goto out;
    }
    p = malloc((size_t)*len + 1);
    if (p != NULL && fread(p, 1, (size_t)*len, f) != (size_t)*len) {
        free(p);
        p = NULL;
    }
out:
    if (f != NULL) {
        fclose(f);
    }
    return p;
}

static void
setup(CURL *h, const char *url, const char *body, long len,
      struct curl_slist *headers)
{
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, len);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "curlpost/bench-deliver");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
}

int
main(int argc, char **argv)
{
    static const char *hdr[] = {
        "Content-Type: application/json",
        "terra-signature: t=1764849600,v1=000000000000000000000000000000000"
        "0000000000000000000000000000000",
        "terra-reference: 00000000-0000-4000-8000-000000000000",
        "ferry-event-id: 00000000-0000-4000-8000-000000000000",
        "Expect:",
    };
    struct curl_slist *headers = NULL;
    CURL *h[MAX_C];
    CURLM *m = NULL;
    char *body = NULL;
    long len = 0;
    long n = 0;
    long c = 0;
    long started = 0;
    long done = 0;
    long bad = 0;
    struct timespec t0;
    struct timespec t1;
    double s = 0;
    size_t i = 0;

    if (argc != 5 || (n = atol(argv[3])) <= 0 || (c = atol(argv[4])) <= 0 ||
        c > MAX_C) {
        fprintf(stderr, "usage: curlpost URL BODY_FILE N C (C <= %d)\n", MAX_C);
        return 2;
    }
    body = slurp(argv[2], &len);
    if (body == NULL) {
        fprintf(stderr, "curlpost: cannot read %s\n", argv[2]);
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    for (i = 0; i < sizeof(hdr) / sizeof(hdr[0]); i++) {
        headers = curl_slist_append(headers, hdr[i]);
    }
    m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, c);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < (size_t)c && started < n; i++) {
        h[i] = curl_easy_init();
        setup(h[i], argv[1], body, len, headers);
        curl_multi_add_handle(m, h[i]);
        started++;
    }
    while (done < n) {
        CURLMsg *msg = NULL;
        int running = 0;
        int left = 0;

        curl_multi_perform(m, &running);
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            CURL *e = msg->easy_handle;
            long status = 0;

            if (msg->msg != CURLMSG_DONE) {
                continue;
            }
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
            if (msg->data.result != CURLE_OK || status < 200 || status > 299) {
                bad++;
            }
            done++;
            curl_multi_remove_handle(m, e);
            if (started < n) {
                curl_multi_add_handle(m, e);
                started++;
            }
        }
        if (done < n) {
            curl_multi_poll(m, NULL, 0, 100, NULL);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("requests=%ld seconds=%.3f rate=%.0f\n", n, s, (double)n / s);
    if (bad > 0) {
        fprintf(stderr, "curlpost: %ld requests failed\n", bad);
    }
    return bad > 0 ? 1 : 0;
}

/*
 * roundtrip.c - the ceiling of bench/normalize: jansson's own parse and
 * dump of a JSON file.
 *
 *   roundtrip FILE
 *
 * Reads all of FILE into memory, parses it with json_loadb() (with
 * JSON_DECODE_ANY, as `ferry normalize` does), dumps the value with
 * json_dumps() and the flags ferry's command line prints with (compact,
 * reals with 15 significant digits) and writes it and a newline to
 * standard output. It does what `ferry normalize` does with its input
 * and its output lines, minus the adapter: the reading, the parse, the
 * dump and the write. (ferry writes its lines with src/core/jsonw.c,
 * which makes the same bytes faster; the ceiling stays jansson's dump.)
 * Exit status 0, or 1 with a message on standard error. Built and run
 * by bench/normalize.
 */
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#define INPUT_MAX (64u << 20) /* ferry normalize's own limit */

/*
 * Read all of `path` into a new buffer: *out (caller frees with free())
 * and *len. Returns 0, or -1 with a message on standard error.
 */
static int
slurp(const char *path, char **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t cap = 0;
    size_t n = 0;
    size_t got = 0;
    int rc = -1;

    if (f == NULL) {
        fprintf(stderr, "roundtrip: cannot open %s\n", path);
        goto out;
    }
    do {
        if (n == cap) {
            char *p = NULL;

            cap = cap == 0 ? 65536 : cap * 2;
            if (cap > INPUT_MAX) {
                fprintf(stderr, "roundtrip: %s is over 64 MiB\n", path);
                goto out;
            }
            p = realloc(data, cap);
            if (p == NULL) {
                fprintf(stderr, "roundtrip: out of memory\n");
                goto out;
            }
            data = p;
        }
        got = fread(data + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    if (ferror(f)) {
        fprintf(stderr, "roundtrip: cannot read %s\n", path);
        goto out;
    }
    *out = data;
    *len = n;
    data = NULL;
    rc = 0;
out:
    free(data);
    if (f != NULL) {
        fclose(f);
    }
    return rc;
}

int
main(int argc, char **argv)
{
    json_error_t jerr;
    json_t *root = NULL;
    char *in = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc = 1;

    if (argc != 2) {
        fprintf(stderr, "usage: roundtrip FILE\n");
        return 2;
    }
    if (slurp(argv[1], &in, &len) < 0) {
        goto out;
    }
    root = json_loadb(in, len, JSON_DECODE_ANY, &jerr);
    if (root == NULL) {
        fprintf(stderr, "roundtrip: %s: %s (line %d)\n", argv[1], jerr.text,
                jerr.line);
        goto out;
    }
    text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (text == NULL) {
        fprintf(stderr, "roundtrip: cannot dump %s\n", argv[1]);
        goto out;
    }
    if (fputs(text, stdout) == EOF || putchar('\n') == EOF ||
        fflush(stdout) == EOF) {
        fprintf(stderr, "roundtrip: cannot write\n");
        goto out;
    }
    rc = 0;
out:
    free(text);
    json_decref(root);
    free(in);
    return rc;
}

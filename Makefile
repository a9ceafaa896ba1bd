# ferry - GNU make build.
#
#   make          build ./ferry (optimised)
#   make asan     build build/asan/ferry with AddressSanitizer and UBSan
#   make check    install dependencies, build both ways, run every test
#                 against both builds
#   make demo     install dependencies, build, run `ferry demo`
#   make lint     clang-format check and the 80-column rule
#   make fuzz     run the libFuzzer harnesses in tests/fuzz (clang)
#   make bench    run the benchmarks in bench/ (see bench/RESULTS.md)
#   make screenshots  PNGs of the end user's pages in build/screenshots/

PKGS := libmicrohttpd jansson sqlite3 openssl inih libcurl libpq
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS = $(shell pkg-config --libs $(PKGS))

CC ?= cc
WARN := -std=c11 -Wall -Wextra -Werror -Wshadow -Wpointer-arith \
	-Wstrict-prototypes -Wvla
CPPFLAGS := -D_GNU_SOURCE -Isrc -MMD -MP
REL_CFLAGS := $(WARN) -O2 -g
ASAN_CFLAGS := $(WARN) -O1 -g -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=undefined
LDLIBS = $(PKG_LIBS) -lpthread -lm

REL := build/release
ASN := build/asan

LIB_SRC := $(shell find src -name '*.c' ! -path src/main.c | LC_ALL=C sort)
UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_NAMES := $(UNIT_SRC:tests/unit/%.c=%)

REL_LIB_OBJ := $(LIB_SRC:%.c=$(REL)/%.o)
ASN_LIB_OBJ := $(LIB_SRC:%.c=$(ASN)/%.o)
REL_UNIT := $(UNIT_NAMES:%=$(REL)/tests/unit/%)
ASN_UNIT := $(UNIT_NAMES:%=$(ASN)/tests/unit/%)

export ASAN_OPTIONS := detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS := print_stacktrace=1:halt_on_error=1
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp

.PHONY: all asan check check-release check-asan deps demo lint bench \
	clean units units-asan e2e-deps format

all: ferry

ferry: $(REL)/src/main.o $(REL)/libferry.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

asan: $(ASN)/ferry

$(ASN)/ferry: $(ASN)/src/main.o $(ASN)/libferry.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

$(REL)/libferry.a: $(REL_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(ASN)/libferry.a: $(ASN_LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(REL)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(REL_CFLAGS) $(PKG_CFLAGS) -Itests -c $< -o $@

$(ASN)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(ASAN_CFLAGS) $(PKG_CFLAGS) -Itests -c $< -o $@

$(REL)/tests/unit/%: $(REL)/tests/unit/%.o $(REL)/libferry.a
	$(CC) $(REL_CFLAGS) -o $@ $^ $(LDLIBS)

$(ASN)/tests/unit/%: $(ASN)/tests/unit/%.o $(ASN)/libferry.a
	$(CC) $(ASAN_CFLAGS) -o $@ $^ $(LDLIBS)

units: $(REL_UNIT)
units-asan: $(ASN_UNIT)

# Installing is idempotent and quick when everything is present; the
# recursive make below re-reads pkg-config after a fresh install.
deps:
	scripts/install-deps

check: deps
	$(MAKE) check-release
	$(MAKE) check-asan
	$(MAKE) fuzz-smoke

check-release: ferry units
	scripts/run-tests release $(CURDIR)/ferry $(REL)/tests/unit

check-asan: asan units-asan
	scripts/run-tests asan $(CURDIR)/$(ASN)/ferry $(ASN)/tests/unit

demo:
	scripts/install-deps --build
	$(MAKE) ferry
	./ferry demo

lint:
	scripts/lint

format:
	clang-format -i $$(find src tests -name '*.[ch]')

bench: deps
	$(MAKE) ferry
	bench/run
	bench/connect
	bench/deliver
	bench/normalize

clean:
	rm -rf build ferry

-include $(shell find build -name '*.d' 2>/dev/null)

include mk/screenshots.mk

# libFuzzer harnesses for the parsers ferry owns, built with clang (gcc has
# no libFuzzer). `make fuzz` runs each for FUZZ_SECONDS; `make check`
# runs a short smoke of each so they keep building and passing.
FUZZ_SECONDS ?= 30
FUZZ := build/fuzz
FUZZ_CFLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Isrc \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_NAMES := isotime url codec form oauth2 signature jsonw adapters
fuzz_isotime_SRC := src/core/isotime.c src/core/err.c
fuzz_url_SRC := src/http/url.c src/core/err.c
fuzz_codec_SRC := src/core/codec.c src/core/buf.c src/core/err.c \
	src/core/xmalloc.c src/core/log.c src/core/utf8.c
fuzz_form_SRC := src/http/form.c src/core/arena.c src/core/utf8.c \
	src/core/buf.c src/core/codec.c src/core/err.c src/core/xmalloc.c \
	src/core/log.c
fuzz_signature_SRC := src/deliver/sign.c src/core/crypto.c src/core/codec.c \
	src/core/buf.c src/core/err.c src/core/xmalloc.c src/core/log.c \
	src/core/utf8.c src/core/rng.c
fuzz_oauth2_SRC := src/oauth/oauth2.c src/core/arena.c src/core/buf.c \
	src/core/utf8.c src/core/err.c src/core/xmalloc.c src/core/log.c \
	src/core/codec.c src/core/crypto.c src/core/rng.c
fuzz_jsonw_SRC := src/core/jsonw.c src/core/buf.c src/core/utf8.c \
	src/core/xmalloc.c
fuzz_adapters_SRC := src/providers/adapter.c src/providers/adapters.c \
	src/providers/sandbox.c src/providers/oura.c src/providers/withings.c \
	src/providers/garmin.c src/http/form.c src/core/jsonw.c src/core/buf.c \
	src/core/arena.c src/core/codec.c src/core/crypto.c src/core/isotime.c \
	src/core/utf8.c src/core/err.c src/core/xmalloc.c src/core/log.c \
	src/core/rng.c

.PHONY: fuzz fuzz-build fuzz-smoke
.SECONDEXPANSION:
$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $$(fuzz_$$*_SRC)
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -o $@ $^ $(PKG_LIBS)

fuzz-build: $(FUZZ_NAMES:%=$(FUZZ)/fuzz_%)

fuzz: fuzz-build
	@for n in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ)/corpus_$$n; \
	    if $(FUZZ)/fuzz_$$n -max_total_time=$(FUZZ_SECONDS) \
	        $(FUZZ)/corpus_$$n > $(FUZZ)/fuzz_$$n.log 2>&1; then \
	        echo "fuzz_$$n: $$(grep '^Done' $(FUZZ)/fuzz_$$n.log)"; \
	    else \
	        cat $(FUZZ)/fuzz_$$n.log; exit 1; \
	    fi; \
	done

fuzz-smoke:
	$(MAKE) fuzz FUZZ_SECONDS=5

# bench/: side-by-side benchmarks (not tests)
EXTRA_DIST += bench/README.md bench/bench.sh bench/headload.c bench/slowdisk.sh \
	bench/bench_auth.sh

# issue 8: synthetic big stores in the Distribution layout, for
# tests/integration/test_bigstore.sh and bench/bench_bigstore.sh
noinst_PROGRAMS += bench/genstore
bench_genstore_SOURCES = bench/genstore.c
bench_genstore_LDADD = $(OPENSSL_LIBS) $(LIBBSD_LIBS)
EXTRA_DIST += bench/bench_bigstore.sh
EXTRA_DIST += bench/bench_gc.sh

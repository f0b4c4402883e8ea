# bench/: side-by-side benchmarks (not tests)
EXTRA_DIST += bench/README.md bench/bench.sh bench/headload.c bench/slowdisk.sh \
	bench/bench_auth.sh bench/bench_tunnel.sh

# issue 8: synthetic big stores in the Distribution layout, for
# tests/integration/test_bigstore.sh and bench/bench_bigstore.sh
noinst_PROGRAMS += bench/genstore
bench_genstore_SOURCES = bench/genstore.c
bench_genstore_LDADD = $(OPENSSL_LIBS) $(LIBBSD_LIBS)
EXTRA_DIST += bench/bench_bigstore.sh
EXTRA_DIST += bench/bench_metrics.sh
# what httpd's counting costs a request, on the code itself (issue 10)
noinst_PROGRAMS += bench/metrics_cost
bench_metrics_cost_SOURCES = bench/metrics_cost.c httpd/metrics.c
bench_metrics_cost_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/httpd
bench_metrics_cost_LDADD = $(REGMASTER_LIBS)

# issue 9: what lib/tzip's compression costs a tunnel stream
noinst_PROGRAMS += bench/tzip_bench
bench_tzip_bench_SOURCES = bench/tzip_bench.c
bench_tzip_bench_LDADD = $(REGMASTER_LIBS)

EXTRA_DIST += bench/bench_gc.sh
EXTRA_DIST += bench/bench_cache.sh

# bench/: side-by-side benchmarks (not tests)
EXTRA_DIST += bench/README.md bench/bench.sh bench/headload.c bench/slowdisk.sh \
	bench/bench_auth.sh

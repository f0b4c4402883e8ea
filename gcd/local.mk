# gcd/: the gcd worker.
pkglibexec_PROGRAMS += gcd/gcd
gcd_gcd_SOURCES = gcd/gcd.c gcd/gcd.h gcd/scan.c gcd/plan.c gcd/evict.c gcd/run.c
gcd_gcd_LDADD = $(REGMASTER_LIBS)

# master/: regmaster, the command line and the supervisor.
sbin_PROGRAMS += master/regmaster
master_regmaster_SOURCES = master/regmaster.c master/master.h \
	master/control.c master/listen.c master/setup.c master/supervise.c \
	master/store_owner.c master/store_repair.c master/orphans.c
master_regmaster_LDADD = $(REGMASTER_LIBS)
# the admin verbs (user, cert) and what check adds for TLS, users and audit
master_regmaster_SOURCES += master/files.c master/user.c master/cert.c \
	master/check_tls.c master/check_auth.c
# the audit file master opens and authd writes
master_regmaster_SOURCES += master/audit.c
# TLS: the certificate generations master hands to httpd and authd
master_regmaster_SOURCES += master/tls.c
master_regmaster_SOURCES += master/tunnel.c master/resolver.c master/cache.c
# the metrics page and readiness for httpd's metrics listener (issue 10)
master_regmaster_SOURCES += master/metrics.c
master_regmaster_SOURCES += master/tunnel_status.c
# gc: `regmaster gc` through gcd, and the storage usage it reports
master_regmaster_SOURCES += master/gc.c

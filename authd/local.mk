# authd/: the authd worker.
pkglibexec_PROGRAMS += authd/authd
authd_authd_SOURCES = authd/authd.c authd/authd.h authd/audit.c \
	authd/cache.c authd/check.c authd/limit.c authd/login.c \
	authd/passwd.c authd/rules.c authd/token.c
authd_authd_LDADD = $(REGMASTER_LIBS)
# the TLS key holder httpd's handshakes ask for signatures
authd_authd_SOURCES += authd/ca.c authd/ca.h authd/pss.c authd/pss.h

# authd/: the authd worker.
pkglibexec_PROGRAMS += authd/authd
authd_authd_SOURCES = authd/authd.c
authd_authd_LDADD = $(REGMASTER_LIBS)

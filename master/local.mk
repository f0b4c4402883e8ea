# master/: regmaster, the command line and the supervisor.
sbin_PROGRAMS += master/regmaster
master_regmaster_SOURCES = master/regmaster.c master/master.h \
	master/control.c master/listen.c master/setup.c master/supervise.c \
	master/store_owner.c master/orphans.c master/files.c master/user.c \
	master/cert.c master/check_tls.c master/check_auth.c
master_regmaster_LDADD = $(REGMASTER_LIBS)

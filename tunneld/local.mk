# tunneld/: the tunneld worker.
pkglibexec_PROGRAMS += tunneld/tunneld
tunneld_tunneld_SOURCES = tunneld/tunneld.c
tunneld_tunneld_LDADD = $(REGMASTER_LIBS)

# storaged/: the storaged worker.
pkglibexec_PROGRAMS += storaged/storaged
storaged_storaged_SOURCES = storaged/storaged.c
storaged_storaged_LDADD = $(REGMASTER_LIBS)

# tunneld/: the tunneld worker.
pkglibexec_PROGRAMS += tunneld/tunneld
tunneld_tunneld_SOURCES = tunneld/tunneld.c
tunneld_tunneld_LDADD = $(REGMASTER_LIBS)
# the relay's status page: server and HTML rendering (status.h)
TUNNELD_STATUS = tunneld/status.c tunneld/status_html.c tunneld/status.h
tunneld_tunneld_SOURCES += $(TUNNELD_STATUS)

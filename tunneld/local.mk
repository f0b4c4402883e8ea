# tunneld/: the tunneld worker.
pkglibexec_PROGRAMS += tunneld/tunneld
TUNNELD_CORE = tunneld/ctrl.c tunneld/ctrl.h tunneld/probe.c tunneld/probe.h
tunneld_tunneld_SOURCES = tunneld/tunneld.c tunneld/tunneld.h \
	tunneld/tls.c tunneld/mux.c tunneld/mux.h tunneld/mux_int.h \
	tunneld/mux_stream.c \
	tunneld/relay.c tunneld/relay.h tunneld/relay_reg.c \
	tunneld/relay_status.c tunneld/relay_visitors.c \
	tunneld/client.c tunneld/client.h tunneld/client_local.c tunneld/client_health.c \
	tunneld/client_addr.c \
	$(TUNNELD_CORE)
tunneld_tunneld_LDADD = $(REGMASTER_LIBS)
# the relay's figures for a scrape (issue 10)
tunneld_tunneld_SOURCES += tunneld/relay_metrics.c
# the relay's status page: server and HTML rendering (status.h)
TUNNELD_STATUS = tunneld/status.c tunneld/status_auth.c tunneld/status_html.c \
	tunneld/status.h
tunneld_tunneld_SOURCES += $(TUNNELD_STATUS)

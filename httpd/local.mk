# httpd/: the HTTP front end worker.
pkglibexec_PROGRAMS += httpd/httpd
httpd_httpd_SOURCES = httpd/httpd.c httpd/httpd.h httpd/conn.c httpd/conn.h \
	httpd/api.h httpd/api.c httpd/api_blob.c httpd/api_manifest.c \
	httpd/auth.h httpd/auth.c httpd/auth_cache.c httpd/token.c httpd/audit.c
httpd_httpd_LDADD = $(REGMASTER_LIBS)
# TLS: contexts per certificate generation, handshakes signed by authd
httpd_httpd_SOURCES += httpd/tls.c httpd/tls.h httpd/tls_key.c httpd/tls_io.c
# the metrics listener and httpd's counters (issue 10)
httpd_httpd_SOURCES += httpd/metrics.c httpd/metrics.h
# the pull-through cache (issue 11): upstream client, manifests, blobs
httpd_httpd_SOURCES += httpd/upstream.c httpd/upstream.h httpd/upstream_int.h \
	httpd/upstream_body.c httpd/upstream_auth.c httpd/upstream_conf.c \
	httpd/upstream_fwd.c httpd/forward.c httpd/forward.h \
	httpd/upstream_pool.c \
	httpd/cache.c httpd/cache.h httpd/cache_int.h httpd/cache_blob.c

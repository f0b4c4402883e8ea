# httpd/: the httpd worker.
pkglibexec_PROGRAMS += httpd/httpd
httpd_httpd_SOURCES = httpd/httpd.c
httpd_httpd_LDADD = $(REGMASTER_LIBS)
